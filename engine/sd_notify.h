// The systemd readiness protocol (sd_notify(3)), spoken directly so that rmsd needs no libsystemd:
// one datagram of "KEY=VALUE" lines to the AF_UNIX socket named by $NOTIFY_SOCKET. Without that
// variable (rmsd not started by systemd with Type=notify) every call does nothing and succeeds.
#pragma once

#include <string_view>

#include "engine/status.h"

namespace rms {

// Sends `state` (for example "READY=1" or "STOPPING=1\nSTATUS=draining") to the service manager.
// An address starting with '@' is in the abstract namespace. Fails with "io_error" naming the
// socket when the address is too long or the socket cannot be reached; the caller logs that and
// goes on, since a missed notification must not stop the engine.
[[nodiscard]] Status NotifyServiceManager(std::string_view state);

}  // namespace rms
