#include "tests/support/test_certs.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace rms {

namespace {

// Runs a shell command with its output in `log`; fails with the log's text.
Status Run(const std::string& command, const std::string& log) {
    std::string full = "(" + command + ") >>'" + log + "' 2>&1";
    if (std::system(full.c_str()) == 0) {
        return Status::Ok();
    }
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    return Status::Error("io_error", "`" + command + "` failed: " + text.str());
}

// A P-256 key and a certificate for `subject` signed by `ca` (self-signed when `ca` is empty).
Status MakeCert(const std::string& dir, const std::string& name, const std::string& subject,
                const std::string& ca, const std::string& extensions) {
    std::string key = dir + "/" + name + ".key";
    std::string cert = dir + "/" + name + ".pem";
    std::string log = dir + "/openssl.log";
    std::string ext_file = dir + "/" + name + ".ext";
    std::ofstream(ext_file) << extensions << "\n";
    Status s = Run(
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '" + key + "'", log);
    if (!s.ok()) {
        return s;
    }
    if (ca.empty()) {
        return Run("openssl req -x509 -new -key '" + key + "' -subj '" + subject +
                       "' -days 2 -out '" + cert + "' -addext basicConstraints=critical,CA:TRUE" +
                       " -addext keyUsage=critical,keyCertSign,cRLSign",
                   log);
    }
    std::string csr = dir + "/" + name + ".csr";
    s = Run("openssl req -new -key '" + key + "' -subj '" + subject + "' -out '" + csr + "'", log);
    if (!s.ok()) {
        return s;
    }
    return Run("openssl x509 -req -in '" + csr + "' -CA '" + dir + "/" + ca + ".pem' -CAkey '" +
                   dir + "/" + ca + ".key' -CAcreateserial -days 2 -out '" + cert + "' -extfile '" +
                   ext_file + "'",
               log);
}

}  // namespace

Result<TestCerts> MakeTestCerts(const std::string& dir) {
    struct Step {
        const char* name;
        const char* subject;
        const char* ca;
        const char* extensions;
    };
    const Step steps[] = {
        {"ca", "/CN=rms test CA", "", ""},
        {"other-ca", "/CN=rms other CA", "", ""},
        {"server", "/CN=127.0.0.1", "ca",
         "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"},
        {"client", "/CN=producer-a", "ca", "extendedKeyUsage=clientAuth"},
        {"stranger", "/CN=stranger", "other-ca", "extendedKeyUsage=clientAuth"},
    };
    for (const Step& step : steps) {
        Status s = MakeCert(dir, step.name, step.subject, step.ca, step.extensions);
        if (!s.ok()) {
            return s;
        }
    }
    auto pem = [&](const char* name) { return dir + "/" + name + ".pem"; };
    auto key = [&](const char* name) { return dir + "/" + name + ".key"; };
    return TestCerts{pem("ca"),     pem("server"),   key("server"),  pem("client"),
                     key("client"), pem("stranger"), key("stranger")};
}

}  // namespace rms
