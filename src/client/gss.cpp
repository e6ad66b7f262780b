#include "client/gss.hpp"

#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

#include <utility>
#include <vector>

namespace gatehouse::client::gss {
namespace {

// RFC 4178 §3: iso.org.dod.internet.security.mechanism.snego (1.3.6.1.5.5.2).
gss_OID_desc spnego_oid{6, const_cast<char*>("\x2b\x06\x01\x05\x05\x02")};

void display_all(OM_uint32 code, int type, std::string& out) {
  OM_uint32 context = 0;
  bool first = true;
  do {
    OM_uint32 minor = 0;
    Buffer text;
    const OM_uint32 major =
        gss_display_status(&minor, code, type, GSS_C_NO_OID, &context, text.get());
    if (GSS_ERROR(major)) break;
    if (!first) out += "; ";
    out.append(text.view());
    first = false;
  } while (context != 0);
}

gss_buffer_desc borrowed(std::string_view bytes) {
  gss_buffer_desc buffer;
  buffer.length = bytes.size();
  buffer.value = const_cast<char*>(bytes.data());
  return buffer;
}

}  // namespace

std::string status_message(OM_uint32 major, OM_uint32 minor) {
  std::string out;
  display_all(major, GSS_C_GSS_CODE, out);
  if (minor != 0) {
    std::string mech;
    display_all(minor, GSS_C_MECH_CODE, mech);
    if (!mech.empty()) out += (out.empty() ? "" : ": ") + mech;
  }
  return out.empty() ? "unknown GSSAPI error" : out;
}

GssError::GssError(OM_uint32 major, OM_uint32 minor)
    : std::runtime_error(status_message(major, minor)), major_(major), minor_(minor) {}

bool GssError::no_credentials() const noexcept {
  const OM_uint32 routine = GSS_ROUTINE_ERROR(major_);
  return routine == GSS_S_NO_CRED || routine == GSS_S_CREDENTIALS_EXPIRED;
}

gss_OID spnego_mechanism() noexcept {
  return &spnego_oid;
}
gss_OID krb5_mechanism() noexcept {
  return gss_mech_krb5;
}

Buffer::~Buffer() {
  OM_uint32 minor = 0;
  if (buffer_.value != nullptr) gss_release_buffer(&minor, &buffer_);
}

Name Name::import(std::string_view text, gss_OID type) {
  gss_buffer_desc input = borrowed(text);
  Name name;
  OM_uint32 minor = 0;
  const OM_uint32 major = gss_import_name(&minor, &input, type, &name.name_);
  if (GSS_ERROR(major)) throw GssError(major, minor);
  return name;
}

Name Name::hostbased_service(std::string_view name) {
  return import(name, GSS_C_NT_HOSTBASED_SERVICE);
}
Name Name::krb5_principal(std::string_view name) {
  return import(name, GSS_KRB5_NT_PRINCIPAL_NAME);
}

Name::~Name() {
  OM_uint32 minor = 0;
  if (name_ != GSS_C_NO_NAME) gss_release_name(&minor, &name_);
}
Name::Name(Name&& other) noexcept : name_(std::exchange(other.name_, GSS_C_NO_NAME)) {}
Name& Name::operator=(Name&& other) noexcept {
  std::swap(name_, other.name_);
  return *this;
}

std::string Name::display() const {
  OM_uint32 minor = 0;
  Buffer text;
  const OM_uint32 major = gss_display_name(&minor, name_, text.get(), nullptr);
  if (GSS_ERROR(major)) throw GssError(major, minor);
  return std::string(text.view());
}

Credential Credential::acquire_initiator(const std::string& principal, const std::string& ccache,
                                         gss_OID mech) {
  Name name;
  if (!principal.empty()) name = Name::krb5_principal(principal);
  gss_key_value_element_desc element{"ccache", ccache.c_str()};
  gss_key_value_set_desc store{1, &element};
  gss_OID_set_desc mechs{1, mech};
  auto attempt = [&](gss_OID_set_desc* set, Credential& out) {
    OM_uint32 minor = 0;
    const OM_uint32 major = gss_acquire_cred_from(
        &minor, name.get(), GSS_C_INDEFINITE, set, GSS_C_INITIATE,
        ccache.empty() ? GSS_C_NO_CRED_STORE : &store, &out.cred_, nullptr, nullptr);
    return std::pair{major, minor};
  };
  Credential cred;
  const auto [major, minor] = attempt(&mechs, cred);
  if (!GSS_ERROR(major)) return cred;
  // SPNEGO's own minor code only says it found no mechanism; Kerberos says why (no ccache, no
  // TGT, expired), which is the message a user needs.
  if (mech != gss_mech_krb5) {
    gss_OID_set_desc krb5{1, gss_mech_krb5};
    Credential probe;
    const auto [krb5_major, krb5_minor] = attempt(&krb5, probe);
    if (GSS_ERROR(krb5_major)) throw GssError(krb5_major, krb5_minor);
  }
  throw GssError(major, minor);
}

Credential::~Credential() {
  OM_uint32 minor = 0;
  if (cred_ != GSS_C_NO_CREDENTIAL) gss_release_cred(&minor, &cred_);
}
Credential::Credential(Credential&& other) noexcept
    : cred_(std::exchange(other.cred_, GSS_C_NO_CREDENTIAL)) {}
Credential& Credential::operator=(Credential&& other) noexcept {
  std::swap(cred_, other.cred_);
  return *this;
}

InitiatorContext::~InitiatorContext() {
  OM_uint32 minor = 0;
  if (ctx_ != GSS_C_NO_CONTEXT) gss_delete_sec_context(&minor, &ctx_, GSS_C_NO_BUFFER);
}

std::string InitiatorContext::step(std::optional<std::string_view> input) {
  gss_buffer_desc input_buffer = borrowed(input.value_or(std::string_view{}));
  Buffer output;
  OM_uint32 minor = 0;
  OM_uint32 ret_flags = 0;
  const OM_uint32 major = gss_init_sec_context(&minor, cred_.get(), &ctx_, target_.get(), mech_,
                                               flags_, GSS_C_INDEFINITE, GSS_C_NO_CHANNEL_BINDINGS,
                                               input ? &input_buffer : GSS_C_NO_BUFFER, nullptr,
                                               output.get(), &ret_flags, nullptr);
  if (GSS_ERROR(major)) throw GssError(major, minor);
  ret_flags_ = ret_flags;
  complete_ = (major & GSS_S_CONTINUE_NEEDED) == 0;
  return std::string(output.view());
}

}  // namespace gatehouse::client::gss
