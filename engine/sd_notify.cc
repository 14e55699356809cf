#include "engine/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace rms {

namespace {

Status SocketError(std::string_view address, std::string_view what, int error) {
    return Status::Error("io_error", "NOTIFY_SOCKET " + std::string(address) + ": " +
                                         std::string(what) + ": " + std::strerror(error));
}

}  // namespace

Status NotifyServiceManager(std::string_view state) {
    const char* env = std::getenv("NOTIFY_SOCKET");
    if (env == nullptr || env[0] == '\0') {
        return Status::Ok();
    }
    std::string_view address(env);
    if (address[0] != '/' && address[0] != '@') {
        return Status::Error("io_error", "NOTIFY_SOCKET " + std::string(address) +
                                             ": neither a path nor an abstract address");
    }

    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (address.size() > sizeof(sa.sun_path) - 1) {
        return Status::Error("io_error", "NOTIFY_SOCKET " + std::string(address) + ": too long");
    }
    std::memcpy(sa.sun_path, address.data(), address.size());
    if (address[0] == '@') {
        sa.sun_path[0] = '\0';
    }
    // An abstract address has no terminating NUL: its length is exactly what was given.
    socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size() +
                                              (address[0] == '@' ? 0 : 1));

    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return SocketError(address, "socket", errno);
    }
    ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                          reinterpret_cast<const sockaddr*>(&sa), length);
    int error = errno;
    close(fd);
    if (sent < 0) {
        return SocketError(address, "sendto", error);
    }
    return Status::Ok();
}

}  // namespace rms
