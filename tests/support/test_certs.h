// Throwaway TLS material for tests, made at run time with the openssl command into a temp
// dir: a CA, a server certificate for 127.0.0.1 it signs, a client certificate it signs, and a
// client certificate signed by another CA. Nothing here is ever committed.
#pragma once

#include <string>

#include "engine/status.h"

namespace rms {

struct TestCerts {
    std::string ca;  // PEM: the CA that signs the server and the good client
    std::string server_cert, server_key;
    std::string client_cert, client_key;
    std::string stranger_cert, stranger_key;  // a client certificate from another CA
};

// Writes everything under `dir` (which must exist). Fails with "io_error" carrying openssl's
// output when a command fails.
[[nodiscard]] Result<TestCerts> MakeTestCerts(const std::string& dir);

}  // namespace rms
