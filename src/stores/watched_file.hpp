#pragma once
// Reading a credential file whole, and telling cheaply whether it may have changed since: the
// file-backed stores (htpasswd, htdigest, the shadow database) re-read their file in refresh()
// only when its device, inode, size or modification time differ.
#include <sys/types.h>

#include <ctime>
#include <string>
#include <string_view>

namespace gatehouse::stores {

struct FileVersion {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  std::time_t mtime_seconds = 0;
  long mtime_nanoseconds = 0;
  // Modified within the file system's timestamp granularity of the read: an edit that keeps the
  // size could go unseen, so such a file is re-read on every refresh until it is older (the
  // "racily clean" rule git uses for its index).
  bool racy = true;

  bool same_file_as(const FileVersion& other) const noexcept;
};

struct FileText {
  std::string content;
  FileVersion version;
};

inline constexpr off_t kMaxCredentialFileBytes = 64 * 1024 * 1024;

// The whole regular file at `path`. Throws std::runtime_error "<kind> file <path>: <what>".
FileText read_credential_file(const std::string& path, std::string_view kind);

// True when `path` may hold something other than `version` (changed, or too recent to tell);
// false when it is unchanged or cannot be looked at now (keep serving what was read).
bool may_have_changed(const std::string& path, const FileVersion& version) noexcept;

// Calls f(line) for each '\n'-separated line of `text` (a trailing '\r' is left to the parser).
template <class F>
void for_each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    f(text.substr(0, newline));
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
  }
}

}  // namespace gatehouse::stores
