// The named building blocks bifrost ships, written here from the formats
// they describe (RFC 3986 for URIs, RFC 4291 for IPv6 text, the common log
// time formats). Rules they follow, checked by tests/unit/filters/grok_test.cc:
//   - RE2 and PCRE2 both compile each one and give the same captures, so a
//     pattern built of them keeps RE2 as its safe path;
//   - no capturing group inside (only (?:...)): captures are the user's;
//   - no boundaries of their own where RE2 has none (lookarounds): what
//     surrounds them in the pattern decides where they stop;
//   - no nested quantifiers whose iterations could match the same text
//     (the shape that backtracks exponentially);
//   - docs/filters.md lists each with this exact definition.
#include "filters/parse_regex/grok.h"

namespace bifrost::filters::parse_regex {

namespace {

#define HEX4 "[0-9A-Fa-f]{1,4}"
#define OCTET "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"

constexpr BuiltinPattern kBuiltins[] = {
    // Words and numbers
    {"WORD", R"(\b\w+\b)"},
    {"NOTSPACE", R"(\S+)"},
    {"SPACE", R"(\s*)"},
    {"DATA", R"(.*?)"},
    {"GREEDYDATA", R"(.*)"},
    {"INT", R"([+-]?[0-9]+)"},
    {"POSINT", R"([1-9][0-9]*)"},
    {"NONNEGINT", R"([0-9]+)"},
    {"BASE10NUM", R"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"},
    {"NUMBER", R"(%{BASE10NUM})"},
    {"BASE16NUM", R"([+-]?(?:0[xX])?[0-9A-Fa-f]+)"},
    {"QUOTEDSTRING", R"("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"},
    {"QS", R"(%{QUOTEDSTRING})"},
    {"UUID", R"([0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12})"},
    {"LOGLEVEL",
     R"([Tt]race|TRACE|[Dd]ebug|DEBUG|[Nn]otice|NOTICE|[Ii]nfo(?:rmation)?|INFO(?:RMATION)?|[Ww]arn(?:ing)?|WARN(?:ING)?|[Ee]rr(?:or)?|ERR(?:OR)?|[Cc]rit(?:ical)?|CRIT(?:ICAL)?|[Ff]atal|FATAL|[Ss]evere|SEVERE|[Ee]merg(?:ency)?|EMERG(?:ENCY)?|[Aa]lert|ALERT)"},
    // Users, hosts and addresses
    {"USERNAME", R"([a-zA-Z0-9._-]+)"},
    {"USER", R"(%{USERNAME})"},
    {"EMAILLOCALPART", R"([a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+)*)"},
    {"EMAILADDRESS", R"(%{EMAILLOCALPART}@%{HOSTNAME})"},
    {"IPV4", OCTET R"((?:\.)" OCTET "){3}"},
    // RFC 4291 section 2.2: eight groups, or fewer around one "::", or an
    // IPv4 address in the last 32 bits; a zone (%eth0) may follow. Forms
    // ending in more groups come first, so the longest reading wins.
    {"IPV6",
     "(?:"
     "(?:" HEX4 ":){6}%{IPV4}|"
     "::(?:[Ff]{4}(?::0{1,4})?:)?%{IPV4}|"
     "(?:" HEX4 ":){1,5}:%{IPV4}|"
     "(?:" HEX4 ":){7}" HEX4 "|" HEX4 ":(?::" HEX4 "){1,6}|"
     "(?:" HEX4 ":){1,2}(?::" HEX4 "){1,5}|"
     "(?:" HEX4 ":){1,3}(?::" HEX4 "){1,4}|"
     "(?:" HEX4 ":){1,4}(?::" HEX4 "){1,3}|"
     "(?:" HEX4 ":){1,5}(?::" HEX4 "){1,2}|"
     "(?:" HEX4 ":){1,6}:" HEX4 "|"
     "(?:" HEX4 ":){1,7}:|"
     ":(?:(?::" HEX4 "){1,7}|:)"
     ")(?:%[0-9A-Za-z._-]+)?"},
    {"IP", R"(%{IPV4}|%{IPV6})"},
    {"MAC", R"((?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}|(?:[0-9A-Fa-f]{4}\.){2}[0-9A-Fa-f]{4})"},
    {"HOSTNAME", R"([0-9A-Za-z](?:[0-9A-Za-z-]*[0-9A-Za-z])?(?:\.[0-9A-Za-z](?:[0-9A-Za-z-]*[0-9A-Za-z])?)*\.?)"},
    {"IPORHOST", R"(%{IP}|%{HOSTNAME})"},
    {"HOSTPORT", R"(%{IPORHOST}:%{POSINT})"},
    // Paths and URIs
    {"UNIXPATH", R"((?:/[^/\s?#]*)+)"},
    {"WINPATH", R"((?:[A-Za-z]:|\\)(?:\\[^\\/:*?"<>|\s]*)+)"},
    {"PATH", R"(%{UNIXPATH}|%{WINPATH})"},
    {"URIPROTO", R"([A-Za-z][A-Za-z0-9+.-]*)"},
    {"URIHOST", R"(%{IPORHOST}(?::%{POSINT})?)"},
    {"URIPATH", R"((?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)+)"},
    {"URIPARAM", R"(\?[A-Za-z0-9._~!$&'()*+,;=:@%/?\[\]{}|^-]*)"},
    {"URIPATHPARAM", R"(%{URIPATH}(?:%{URIPARAM})?)"},
    {"URI", R"(%{URIPROTO}://(?:%{USER}(?::[^@\s]*)?@)?(?:%{URIHOST})?(?:%{URIPATHPARAM})?)"},
    // Dates and times
    {"MONTH",
     R"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"},
    {"MONTHNUM", R"(0?[1-9]|1[0-2])"},
    {"MONTHDAY", R"(0?[1-9]|[12][0-9]|3[01])"},
    {"DAY", R"(Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)"},
    {"YEAR", R"([0-9]{4})"},
    {"HOUR", R"(2[0-3]|[01]?[0-9])"},
    {"MINUTE", R"([0-5][0-9])"},
    {"SECOND", R"((?:60|[0-5]?[0-9])(?:[.,][0-9]+)?)"},
    {"TIME", R"(%{HOUR}:%{MINUTE}:%{SECOND})"},
    {"ISO8601_TIMEZONE", R"(Z|[+-]%{HOUR}(?::?%{MINUTE})?)"},
    {"TIMESTAMP_ISO8601",
     R"(%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?(?:%{ISO8601_TIMEZONE})?)"},
    {"DATE_US", R"(%{MONTHNUM}[/-]%{MONTHDAY}[/-]%{YEAR})"},
    {"DATE_EU", R"(%{MONTHDAY}[./-]%{MONTHNUM}[./-]%{YEAR})"},
    {"HTTPDATE", R"(%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} [+-][0-9]{4})"},
    {"SYSLOGTIMESTAMP", R"(%{MONTH} +%{MONTHDAY} %{TIME})"},
    {"SYSLOGPROG", R"([\w._/%-]+(?:\[[0-9]+\])?)"},
};

#undef HEX4
#undef OCTET

}  // namespace

std::span<const BuiltinPattern> builtin_patterns() { return kBuiltins; }

}  // namespace bifrost::filters::parse_regex
