#include "inputs/http/request.h"

#include <charconv>
#include <cstring>

namespace bifrost::inputs::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x | 0x20);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y | 0x20);
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether the comma-separated header value holds `token`.
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

bool token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::size_t head_end(std::string_view data) {
  std::size_t p = data.find("\r\n\r\n");
  if (p != std::string_view::npos) return p + 4;
  p = data.find("\n\n");  // a bare-LF client
  return p == std::string_view::npos ? 0 : p + 2;
}

bool parse_head(std::string_view head, RequestHead& out, int& status, std::string& reason) {
  out = RequestHead{};
  status = 400;
  auto line_end = [&](std::string_view s) {
    std::size_t nl = s.find('\n');
    return nl;
  };
  std::size_t nl = line_end(head);
  if (nl == std::string_view::npos) {
    reason = "no request line";
    return false;
  }
  std::string_view line = head.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  head.remove_prefix(nl + 1);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || sp1 == 0 || sp2 == sp1 + 1) {
    reason = "bad request line";
    return false;
  }
  out.method = line.substr(0, sp1);
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  for (char c : out.method) {
    if (!token_char(c)) {
      reason = "bad method";
      return false;
    }
  }
  if (version == "HTTP/1.1") {
    out.http11 = true;
  } else if (version == "HTTP/1.0") {
    out.http11 = false;
    out.keep_alive = false;
  } else {
    status = 505;
    reason = "HTTP/1.0 or HTTP/1.1 only";
    return false;
  }
  bool have_length = false;
  while (!head.empty()) {
    nl = line_end(head);
    std::string_view h = head.substr(0, nl);
    head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 1);
    if (!h.empty() && h.back() == '\r') h.remove_suffix(1);
    if (h.empty()) break;
    if (h.front() == ' ' || h.front() == '\t') {
      reason = "folded header lines are not allowed";
      return false;
    }
    const std::size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      reason = "bad header line";
      return false;
    }
    std::string_view name = h.substr(0, colon), value = trim(h.substr(colon + 1));
    for (char c : name) {
      if (!token_char(c)) {
        reason = "bad header name";
        return false;
      }
    }
    if (iequals(name, "content-length")) {
      std::int64_t n = -1;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size() || n < 0 ||
          (have_length && n != out.content_length)) {
        reason = "bad Content-Length";
        return false;
      }
      have_length = true;
      out.content_length = n;
    } else if (iequals(name, "transfer-encoding")) {
      if (!iequals(value, "chunked")) {
        status = 501;
        reason = "Transfer-Encoding other than chunked";
        return false;
      }
      out.chunked = true;
    } else if (iequals(name, "connection")) {
      if (has_token(value, "close")) out.keep_alive = false;
      else if (has_token(value, "keep-alive")) out.keep_alive = true;
    } else if (iequals(name, "expect")) {
      if (!iequals(value, "100-continue")) {
        status = 417;
        reason = "Expect other than 100-continue";
        return false;
      }
      out.expect_continue = out.http11;
    } else if (iequals(name, "authorization")) {
      out.authorization = value;
    } else if (iequals(name, "content-encoding")) {
      out.content_encoding = value;
    }
  }
  if (out.chunked && have_length) {
    reason = "both Content-Length and Transfer-Encoding";
    return false;
  }
  return true;
}

ChunkedDecoder::Status ChunkedDecoder::feed(std::string_view in, std::size_t& consumed, core::ByteBuffer* out,
                                            std::size_t max_body) {
  constexpr std::size_t kMaxLine = 4096;
  std::size_t p = 0;
  auto done = [&](Status s) {
    consumed = p;
    return s;
  };
  while (p < in.size()) {
    const char c = in[p];
    switch (state_) {
      case State::kSize: {
        const int h = hex(c);
        if (h >= 0) {
          if (++digits_ > 15) return done(Status::kBad);
          left_ = left_ * 16 + static_cast<unsigned>(h);
          ++p;
          break;
        }
        if (digits_ == 0) return done(Status::kBad);
        state_ = c == ';' || c == ' ' || c == '\t' ? State::kExt : State::kSizeLf;
        if (state_ == State::kExt) ++p;
        break;
      }
      case State::kExt:
        if (c == '\r' || c == '\n') {
          state_ = State::kSizeLf;
          break;
        }
        if (++line_ > kMaxLine) return done(Status::kBad);
        ++p;
        break;
      case State::kSizeLf:
        if (c == '\r') {
          ++p;
          break;
        }
        if (c != '\n') return done(Status::kBad);
        ++p;
        line_ = 0;
        digits_ = 0;
        if (left_ == 0) {
          state_ = State::kTrailer;
          break;
        }
        if (total_ + left_ > max_body) return done(Status::kTooLarge);
        state_ = State::kData;
        break;
      case State::kData: {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, in.size() - p));
        if (out) {
          const std::size_t at = out->size();
          out->resize(at + n);
          std::memcpy(out->data() + at, in.data() + p, n);
        }
        p += n;
        left_ -= n;
        total_ += n;
        if (left_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c == '\r') {
          ++p;
          state_ = State::kDataLf;
          break;
        }
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (c != '\n') return done(Status::kBad);
        ++p;
        state_ = State::kSize;
        break;
      case State::kTrailer:  // trailer lines up to an empty one; ignored
        if (c == '\r') {
          ++p;
          break;
        }
        if (c == '\n') {
          ++p;
          if (line_ == 0) {
            state_ = State::kDone;
            return done(Status::kDone);
          }
          line_ = 0;
          break;
        }
        if (++line_ > kMaxLine) return done(Status::kBad);
        ++p;
        break;
      case State::kTrailerLf:
      case State::kDone: return done(Status::kDone);
    }
  }
  return done(state_ == State::kDone ? Status::kDone : Status::kMore);
}

}  // namespace bifrost::inputs::http
