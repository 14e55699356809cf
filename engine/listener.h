// Opening a TCP listener, shared by the ingest and HTTP servers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/asio.h"
#include "engine/status.h"

namespace rms {

// Opens, binds and listens on host:port (an IP literal; port 0 picks a free port). `what` names
// the listener in errors. Returns the bound port.
Result<uint16_t> OpenListener(boost::asio::ip::tcp::acceptor& acceptor, const std::string& host,
                              uint16_t port, std::string_view what);

}  // namespace rms
