#include "inputs/common/tls_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace bifrost::inputs {

void read_tls_server(config::MapReader& r, TlsServerSettings& s, const std::string& what) {
  auto node = r.get("tls", "map", "off",
                    "{cert_file: F, key_file: F, ca_file: F, client_auth: none | optional | required, "
                    "min_version: \"1.2\"}: " +
                        what);
  if (r.describing() || !node) return;
  config::MapReader t(*node);
  s.enabled = true;
  auto cert = t.required_string("cert_file", "the server's certificate chain (PEM)");
  auto key = t.required_string("key_file", "the certificate's private key (PEM)");
  s.ca_file = t.string("ca_file", "", "CA certificates (PEM) that client certificates are verified with");
  auto auth = t.get("client_auth", "string", "required with ca_file, none without",
                    "none: no client certificate asked for; optional: verified when sent; required: a client "
                    "without a valid one is refused");
  std::string min = t.choice("min_version", "1.2", {"1.2", "1.3"}, "the oldest TLS version accepted");
  t.finish();
  s.cert_file = cert.value_or("");
  s.key_file = key.value_or("");
  s.tls13_only = min == "1.3";
  s.client_auth = s.ca_file.empty() ? TlsServerSettings::ClientAuth::kNone : TlsServerSettings::ClientAuth::kRequired;
  if (auth) {
    if (auto v = config::parse_choice(*auth, {"none", "optional", "required"})) {
      if (*v == "none") s.client_auth = TlsServerSettings::ClientAuth::kNone;
      else if (*v == "optional") s.client_auth = TlsServerSettings::ClientAuth::kOptional;
      else s.client_auth = TlsServerSettings::ClientAuth::kRequired;
      if (*v != "none" && s.ca_file.empty()) auth->error("client_auth: " + *v + " needs ca_file (the clients' CA)");
    }
  }
}

std::string tls_error() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

core::Result<std::shared_ptr<TlsContext>, NetError> TlsContext::make(const TlsServerSettings& s) {
  ERR_clear_error();
  std::shared_ptr<TlsContext> c(new TlsContext());
  c->ctx_ = SSL_CTX_new(TLS_server_method());
  if (!c->ctx_) return core::fail(NetErrc::kTls, "SSL_CTX_new: " + tls_error());
  SSL_CTX_set_min_proto_version(c->ctx_, s.tls13_only ? TLS1_3_VERSION : TLS1_2_VERSION);
  // Idle connections give their buffers back (a syslog sender may stay
  // connected for days, sending now and then).
  SSL_CTX_set_mode(c->ctx_,
                   SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_options(c->ctx_, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate_chain_file(c->ctx_, s.cert_file.c_str()) != 1)
    return core::fail(NetErrc::kTls, "tls.cert_file " + s.cert_file + ": " + tls_error());
  if (SSL_CTX_use_PrivateKey_file(c->ctx_, s.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    return core::fail(NetErrc::kTls, "tls.key_file " + s.key_file + ": " + tls_error());
  if (SSL_CTX_check_private_key(c->ctx_) != 1)
    return core::fail(NetErrc::kTls, "tls.key_file " + s.key_file + " does not match tls.cert_file " + s.cert_file);
  if (!s.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(c->ctx_, s.ca_file.c_str(), nullptr) != 1)
      return core::fail(NetErrc::kTls, "tls.ca_file " + s.ca_file + ": " + tls_error());
    // The CAs the server names to clients when it asks for a certificate.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(s.ca_file.c_str()))
      SSL_CTX_set_client_CA_list(c->ctx_, names);
  }
  switch (s.client_auth) {
    case TlsServerSettings::ClientAuth::kNone: SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_NONE, nullptr); break;
    case TlsServerSettings::ClientAuth::kOptional: SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER, nullptr); break;
    case TlsServerSettings::ClientAuth::kRequired:
      SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  SSL_CTX_set_verify_depth(c->ctx_, 8);
  SSL_CTX_set_session_cache_mode(c->ctx_, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(c->ctx_, 0);
  return c;
}

TlsContext::~TlsContext() {
  if (ctx_) SSL_CTX_free(ctx_);
}

SSL* TlsContext::session(int fd) const {
  SSL* ssl = SSL_new(ctx_);
  if (!ssl) return nullptr;
  if (SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  return ssl;
}

namespace {
TlsIo classify(SSL* ssl, int ret) {
  switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ: return TlsIo::kWantRead;
    case SSL_ERROR_WANT_WRITE: return TlsIo::kWantWrite;
    case SSL_ERROR_ZERO_RETURN: return TlsIo::kClosed;
    case SSL_ERROR_SYSCALL:
      // EOF without close_notify: the peer went away; nothing is pending.
      if (ERR_peek_error() == 0) return TlsIo::kClosed;
      return TlsIo::kFailed;
    default: return TlsIo::kFailed;
  }
}
}  // namespace

TlsIo tls_handshake(SSL* ssl) {
  ERR_clear_error();
  int r = SSL_do_handshake(ssl);
  if (r == 1) return TlsIo::kOk;
  TlsIo io = classify(ssl, r);
  return io == TlsIo::kClosed ? TlsIo::kFailed : io;
}

TlsIo tls_read(SSL* ssl, char* buf, std::size_t n, std::size_t& done) {
  ERR_clear_error();
  done = 0;
  int r = SSL_read_ex(ssl, buf, n, &done);
  if (r == 1) return TlsIo::kOk;
  return classify(ssl, r);
}

TlsIo tls_write(SSL* ssl, const char* buf, std::size_t n, std::size_t& done) {
  ERR_clear_error();
  done = 0;
  int r = SSL_write_ex(ssl, buf, n, &done);
  if (r == 1) return TlsIo::kOk;
  return classify(ssl, r);
}

bool tls_pending(SSL* ssl) { return SSL_pending(ssl) > 0; }

std::string tls_peer_subject(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (!cert) return {};
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return {};
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, n > 0 ? static_cast<std::size_t>(n) : 0);
  BIO_free(bio);
  return out;
}

void tls_free(SSL* ssl) {
  if (ssl) SSL_free(ssl);
}

}  // namespace bifrost::inputs
