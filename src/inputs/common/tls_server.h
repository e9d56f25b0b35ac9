// The server side of TLS for the network inputs (OpenSSL), and the `tls:`
// key they share, shaped as the outputs' (cert_file, key_file, ca_file):
//
//   tls:
//     cert_file: /etc/bifrost/server.pem     # the server's certificate chain (PEM), required
//     key_file: /etc/bifrost/server.key      # its private key (PEM), required
//     ca_file: /etc/bifrost/clients-ca.pem   # CAs that sign client certificates
//     client_auth: required                  # none | optional | required
//     min_version: "1.2"                     # "1.2" | "1.3"
//
// client_auth defaults to `required` when ca_file is given and to `none`
// without it; optional and required need a ca_file. `optional` asks for a
// certificate and verifies one that is sent, but lets a client without one
// in. Files are read when the input starts, never while validating.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "config/reader.h"
#include "core/result.h"
#include "inputs/common/net_address.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace bifrost::inputs {

struct TlsServerSettings {
  enum class ClientAuth : std::uint8_t { kNone, kOptional, kRequired };
  bool enabled = false;
  std::string cert_file, key_file, ca_file;
  ClientAuth client_auth = ClientAuth::kNone;
  bool tls13_only = false;
};

// Reads `tls:` into `s` (enabled when the key is there). Pure.
void read_tls_server(config::MapReader& r, TlsServerSettings& s, const std::string& what);

// An SSL_CTX made from the settings (certificates loaded, verified to match
// the key). Shared by the connections of one input.
class TlsContext {
 public:
  static core::Result<std::shared_ptr<TlsContext>, NetError> make(const TlsServerSettings& s);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A session for an accepted socket, in server mode; nullptr on failure.
  SSL* session(int fd) const;

 private:
  TlsContext() = default;
  SSL_CTX* ctx_ = nullptr;
};

// Non-blocking TLS I/O on one session.
enum class TlsIo : std::uint8_t { kOk, kWantRead, kWantWrite, kClosed, kFailed };
// Advances the handshake.
TlsIo tls_handshake(SSL* ssl);
// Reads or writes up to n bytes; `done` the bytes moved when kOk.
TlsIo tls_read(SSL* ssl, char* buf, std::size_t n, std::size_t& done);
TlsIo tls_write(SSL* ssl, const char* buf, std::size_t n, std::size_t& done);
// Plaintext OpenSSL holds already decrypted (readable without the socket).
bool tls_pending(SSL* ssl);
// The reason of the last failure on this thread (OpenSSL's error queue, emptied).
std::string tls_error();
// The client certificate's subject (RFC 2253), or empty without one.
std::string tls_peer_subject(SSL* ssl);
void tls_free(SSL* ssl);

}  // namespace bifrost::inputs
