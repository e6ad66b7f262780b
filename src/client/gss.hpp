#pragma once
// RAII over the MIT GSSAPI C handles (RFC 2744) used by the Negotiate client: names, initiator
// credentials, output buffers and initiator security contexts. Every failure becomes a GssError
// whose message is gss_display_status for the major and the minor code.
#include <gssapi/gssapi.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gatehouse::client::gss {

class GssError : public std::runtime_error {
 public:
  GssError(OM_uint32 major, OM_uint32 minor);
  OM_uint32 major() const noexcept { return major_; }
  OM_uint32 minor() const noexcept { return minor_; }
  // The failure says that there is no usable initiator credential (no ccache, no TGT, expired).
  bool no_credentials() const noexcept;

 private:
  OM_uint32 major_;
  OM_uint32 minor_;
};

// "<major text>: <minor text>" (RFC 2744 §5.11 gss_display_status, every message of both codes).
std::string status_message(OM_uint32 major, OM_uint32 minor);

// The mechanisms the client offers (RFC 4178 SPNEGO, RFC 1964 Kerberos V5).
gss_OID spnego_mechanism() noexcept;
gss_OID krb5_mechanism() noexcept;

// An output buffer owned by GSSAPI (released with gss_release_buffer).
class Buffer {
 public:
  Buffer() noexcept { buffer_.length = 0, buffer_.value = nullptr; }
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  gss_buffer_t get() noexcept { return &buffer_; }
  std::string_view view() const noexcept {
    return {static_cast<const char*>(buffer_.value), buffer_.length};
  }

 private:
  gss_buffer_desc buffer_;
};

class Name {
 public:
  // gss_import_name with GSS_C_NT_HOSTBASED_SERVICE ("service@host"), GSS_KRB5_NT_PRINCIPAL_NAME
  // ("primary/instance@REALM") or GSS_C_NT_USER_NAME.
  static Name hostbased_service(std::string_view name);
  static Name krb5_principal(std::string_view name);
  Name() = default;
  ~Name();
  Name(Name&& other) noexcept;
  Name& operator=(Name&& other) noexcept;
  gss_name_t get() const noexcept { return name_; }
  std::string display() const;

 private:
  static Name import(std::string_view text, gss_OID type);
  gss_name_t name_ = GSS_C_NO_NAME;
};

class Credential {
 public:
  // gss_acquire_cred_from for initiating with `mech`: `principal` empty = the ccache's default
  // principal; `ccache` empty = the default ccache (KRB5CCNAME), else the "ccache" cred store
  // element (MIT credential store extension).
  static Credential acquire_initiator(const std::string& principal, const std::string& ccache,
                                      gss_OID mech);
  Credential() = default;
  ~Credential();
  Credential(Credential&& other) noexcept;
  Credential& operator=(Credential&& other) noexcept;
  gss_cred_id_t get() const noexcept { return cred_; }

 private:
  gss_cred_id_t cred_ = GSS_C_NO_CREDENTIAL;
};

// An initiator context (RFC 2744 §5.19 gss_init_sec_context).
class InitiatorContext {
 public:
  InitiatorContext(Credential cred, Name target, gss_OID mech, OM_uint32 flags)
      : cred_(std::move(cred)), target_(std::move(target)), mech_(mech), flags_(flags) {}
  ~InitiatorContext();
  InitiatorContext(const InitiatorContext&) = delete;
  InitiatorContext& operator=(const InitiatorContext&) = delete;

  // One gss_init_sec_context call; returns the output token (may be empty). Throws GssError.
  std::string step(std::optional<std::string_view> input);
  bool complete() const noexcept { return complete_; }
  bool started() const noexcept { return ctx_ != GSS_C_NO_CONTEXT; }
  OM_uint32 returned_flags() const noexcept { return ret_flags_; }

 private:
  Credential cred_;
  Name target_;
  gss_OID mech_;
  OM_uint32 flags_;
  gss_ctx_id_t ctx_ = GSS_C_NO_CONTEXT;
  OM_uint32 ret_flags_ = 0;
  bool complete_ = false;
};

}  // namespace gatehouse::client::gss
