#include "filters/decode_base64/decode_base64_filter.h"

#include <array>
#include <cstdint>

#include "config/expr_reader.h"
#include "core/json.h"
#include "core/json_value.h"

namespace bifrost::filters::decode_base64 {

namespace {

constexpr std::uint8_t kInvalid = 0xFF;

constexpr std::array<std::uint8_t, 256> make_table(bool url) {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  const char* alphabet = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                             : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
  return t;
}

constexpr auto kStandard = make_table(false);
constexpr auto kUrl = make_table(true);

class DecodeBase64Filter final : public pipeline::Filter {
 public:
  DecodeBase64Filter(const Spec& spec, const std::string& id)
      : spec_(spec), failure_tag_(id + "_failure"), utf8_tag_(id + "_not_utf8") {}

  void process(core::Batch& batch, std::span<const std::uint32_t> events) const override {
    const core::FieldPath& target = spec_.target ? *spec_.target : *spec_.field;
    for (std::uint32_t i : events) {
      core::Event& e = batch.events[i];
      auto v = core::get_field(e, *spec_.field);
      if (!v || !v->is_string()) {
        apply_failure(spec_.on_failure, batch, e, failure_tag_, "base64_failure");
        continue;
      }
      std::string_view in = v->as_string();
      char* out = batch.arena.allocate_array<char>(in.size() / 4 * 3 + 3);
      auto n = decode(in, spec_.url, out);
      if (!n) {
        apply_failure(spec_.on_failure, batch, e, failure_tag_, "base64_failure");
        continue;
      }
      std::string_view decoded(out, *n);
      if (spec_.parse_json) {
        auto doc = core::parse_json_value(decoded, batch.arena);
        if (!doc) {
          apply_failure(spec_.on_failure, batch, e, failure_tag_, "base64_failure");
          continue;
        }
        core::set_field(e, target, *doc, batch.arena);
        continue;
      }
      if (!core::is_valid_utf8(decoded)) {
        core::add_tag(e, utf8_tag_, batch.arena);  // binary: the original stays
        continue;
      }
      core::set_field(e, target, core::Value::string(decoded), batch.arena);
    }
  }

 private:
  const Spec& spec_;
  std::string failure_tag_;
  std::string utf8_tag_;
};

}  // namespace

std::optional<std::size_t> decode(std::string_view in, bool url, char* out) {
  const auto& table = url ? kUrl : kStandard;
  std::size_t n = in.size();
  while (n > 0 && in[n - 1] == '=') --n;  // padding is optional
  if (in.size() - n > 2) return std::nullopt;
  if (in.size() != n && in.size() % 4 != 0) return std::nullopt;  // padding, if any, completes a quad
  if (n % 4 == 1) return std::nullopt;
  std::size_t o = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    std::uint8_t a = table[static_cast<unsigned char>(in[i])], b = table[static_cast<unsigned char>(in[i + 1])],
                 c = table[static_cast<unsigned char>(in[i + 2])], d = table[static_cast<unsigned char>(in[i + 3])];
    if ((a | b | c | d) & 0xC0) return std::nullopt;  // a valid sextet is below 64; kInvalid is not
    std::uint32_t x = (std::uint32_t{a} << 18) | (std::uint32_t{b} << 12) | (std::uint32_t{c} << 6) | d;
    out[o++] = static_cast<char>(x >> 16);
    out[o++] = static_cast<char>(x >> 8);
    out[o++] = static_cast<char>(x);
  }
  std::size_t rest = n - i;
  if (rest >= 2) {
    std::uint8_t a = table[static_cast<unsigned char>(in[i])], b = table[static_cast<unsigned char>(in[i + 1])];
    if (a == kInvalid || b == kInvalid) return std::nullopt;
    std::uint32_t x = (std::uint32_t{a} << 18) | (std::uint32_t{b} << 12);
    if (rest == 3) {
      std::uint8_t c = table[static_cast<unsigned char>(in[i + 2])];
      if (c == kInvalid) return std::nullopt;
      x |= std::uint32_t{c} << 6;
      out[o++] = static_cast<char>(x >> 16);
      out[o++] = static_cast<char>(x >> 8);
    } else {
      out[o++] = static_cast<char>(x >> 16);
    }
  }
  return o;
}

std::unique_ptr<pipeline::Filter> Spec::build(const pipeline::BuildContext& ctx) const {
  return std::make_unique<DecodeBase64Filter>(*this, ctx.component);
}

std::unique_ptr<pipeline::FilterSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  s->field = config::read_field_path(r, "field", "", "the field holding base64 text");
  if (auto t = r.get("target", "field path", "", "where the decoded value goes (default: the field itself)")) {
    s->target = config::parse_field_path(*t);
  }
  s->url =
      r.choice("alphabet", "standard", {"standard", "url"}, "standard (+/) or url (-_); padding optional") == "url";
  s->parse_json = r.boolean("parse_json", false, "the decoded bytes are a JSON document: the target gets its value");
  s->on_failure = read_on_failure(
      r, "on_failure", "keep | tag (<id>_failure) | drop (reason base64_failure) | reject (to the failed queue)");
  return s;
}

}  // namespace bifrost::filters::decode_base64
