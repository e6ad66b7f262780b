#include "stores/watched_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace gatehouse::stores {

namespace {

constexpr std::time_t kRacySeconds = 2;

FileVersion version_of(const struct stat& status) noexcept {
  FileVersion v{status.st_dev,         status.st_ino,          status.st_size,
                status.st_mtim.tv_sec, status.st_mtim.tv_nsec, true};
  timespec now{};
  v.racy = clock_gettime(CLOCK_REALTIME, &now) != 0 || v.mtime_seconds >= now.tv_sec - kRacySeconds;
  return v;
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) noexcept : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

}  // namespace

bool FileVersion::same_file_as(const FileVersion& o) const noexcept {
  return device == o.device && inode == o.inode && size == o.size &&
         mtime_seconds == o.mtime_seconds && mtime_nanoseconds == o.mtime_nanoseconds;
}

FileText read_credential_file(const std::string& path, std::string_view kind) {
  const std::string label = std::string(kind) + " file " + path + ": ";
  const auto fail = [&](const char* what, int error) {
    return std::runtime_error(label + what + ": " + std::strerror(error));
  };
  const FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (file.get() < 0) throw fail("cannot open", errno);
  struct stat status {};
  if (::fstat(file.get(), &status) != 0) throw fail("cannot stat", errno);
  if (!S_ISREG(status.st_mode)) throw std::runtime_error(label + "not a regular file");
  if (status.st_size > kMaxCredentialFileBytes) {
    throw std::runtime_error(label + "larger than 64 MiB");
  }
  FileText text;
  text.version = version_of(status);
  text.content.reserve(static_cast<std::size_t>(status.st_size));
  char buffer[65536];
  for (;;) {
    const ssize_t got = ::read(file.get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw fail("cannot read", errno);
    if (got == 0) break;
    text.content.append(buffer, static_cast<std::size_t>(got));
    if (text.content.size() > static_cast<std::size_t>(kMaxCredentialFileBytes)) {
      throw std::runtime_error(label + "larger than 64 MiB");
    }
  }
  return text;
}

bool may_have_changed(const std::string& path, const FileVersion& version) noexcept {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) return false;  // gone for now: keep the last read
  return version.racy || !version_of(status).same_file_as(version);
}

}  // namespace gatehouse::stores
