#include "inputs/http/response.h"

namespace bifrost::inputs::http {

const char* status_text(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

// The status as the label of bifrost_http_requests_total (static strings).
const char* status_label(int status) {
  static constexpr struct {
    int code;
    const char* text;
  } kCodes[] = {{200, "200"}, {400, "400"}, {401, "401"}, {404, "404"}, {405, "405"},
                {408, "408"}, {411, "411"}, {413, "413"}, {415, "415"}, {417, "417"},
                {429, "429"}, {431, "431"}, {501, "501"}, {503, "503"}, {505, "505"}};
  for (const auto& c : kCodes) {
    if (c.code == status) return c.text;
  }
  return "other";
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// Compares without leaking where the first difference is.
}  // namespace bifrost::inputs::http
