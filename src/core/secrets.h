// Secrets (passwords, tokens, API keys, SASL secrets) known to this
// process, so that no text bifrost writes shows one: its log, config
// errors, failed-queue reasons and metric labels pass through mask().
//
// A secret is registered where it becomes known: as the config is read
// (inline values) and when a component reads its secret file at start. The
// registry only grows (a reload adds the new ones; the old stay masked).
// Thread-safe.
//
// Secrets shorter than kMinMasked characters are not masked: masking
// "ab" would mangle every line; the config reader warns about them instead.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace bifrost::core::secrets {

inline constexpr std::size_t kMinMasked = 4;
inline constexpr std::string_view kMask = "***";

// Registers a secret (and, for basic auth, callers also register the
// base64 of "user:password", which is what goes on the wire).
void add(std::string_view secret);

// Every registered secret in `text` replaced by ***.
void mask(std::string& text);
std::string masked(std::string_view text);

// Whether any secret is registered (a fast path for mask()).
bool any();

// For tests: forgets every secret.
void clear_for_tests();

// Reads a secret file: its text without the trailing newline(s),
// registered. False (and `error`: "cannot read PATH: why", or "PATH is
// empty") when it cannot be read or holds nothing.
bool read_file(const std::string& path, std::string& out, std::string& error);

// Whether users other than the owner and group may read the file at `path`
// (its mode, in octal, into `mode`); false when it cannot be checked.
bool readable_by_others(const std::string& path, unsigned& mode);

// Whether `given` equals `expected`, in a time that depends only on
// expected's length (not on where they first differ, nor on given's length).
bool constant_time_equal(std::string_view given, std::string_view expected);

// The base64 (RFC 4648, padded) of `in`: Authorization: Basic's form.
std::string base64(std::string_view in);

}  // namespace bifrost::core::secrets
