#include "engine/tls.h"

#include <openssl/ssl.h>

namespace rms {

namespace ssl = boost::asio::ssl;

Result<std::shared_ptr<ssl::context>> MakeServerTlsContext(const TlsSettings& settings) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::single_dh_use);
    boost::system::error_code ec;
    auto fail = [&](const std::string& what, const std::string& file) {
        return Status::Error("invalid_config",
                             "TLS " + what + " \"" + file + "\" cannot be used: " + ec.message());
    };
    ctx->use_certificate_chain_file(settings.cert_file, ec);
    if (ec) {
        return fail("certificate", settings.cert_file);
    }
    ctx->use_private_key_file(settings.key_file, ssl::context::pem, ec);
    if (ec) {
        return fail("key", settings.key_file);
    }
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
        return Status::Error("invalid_config", "TLS key \"" + settings.key_file +
                                                   "\" does not match the certificate \"" +
                                                   settings.cert_file + "\"");
    }
    if (!settings.client_ca_file.empty()) {
        ctx->load_verify_file(settings.client_ca_file, ec);
        if (ec) {
            return fail("client CA", settings.client_ca_file);
        }
        ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
    return ctx;
}

void MaybeTlsStream::ShutdownSend() {
    boost::system::error_code ignored;
    tcp().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
}

void MaybeTlsStream::Close() {
    boost::system::error_code ignored;
    auto& socket = tcp().socket();
    socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
}

}  // namespace rms
