// vram-calc's cache of hub metadata. Layout under the cache directory:
//   hub/<endpoint key>/<org>--<name>/commits/<commit>.json   the entry (cached_model_to_json), per commit
//   hub/<endpoint key>/<org>--<name>/refs/<revision>          {"commit": ..., "fetched_at": ...}, per branch/tag
// The endpoint key is "<scheme>_<host>[_<port>][_<path>]" with everything outside [A-Za-z0-9.-] percent-encoded;
// revisions are percent-encoded the same way ('/' -> %2F). Every file is written to a unique temporary file in
// its directory and renamed into place, so readers see the old or the new file, never a torn one.
#include "vramcalc/sources/result_cache.hpp"

#include "sources/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <random>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/json_relaxed.hpp"
#include "vramcalc/core/limits.hpp"
#include "vramcalc/sources/hf_cache.hpp"

namespace vramcalc {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kSchemaVersion = 1;
constexpr std::size_t kMaxNameBytes = 200;  // file name components stay well under NAME_MAX (255)

// ---- names -------------------------------------------------------------------------------------------------

bool is_unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

// Everything outside [A-Za-z0-9.-] as %XX (so '_' and '%' are encoded too, keeping '_' free as a separator
// and the encoding injective). A leading '.' is encoded as well: no ".", "..", or hidden names.
std::string percent_encode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (is_unreserved(c) && !(i == 0 && c == '.')) {
      out.push_back(c);
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// "https://huggingface.co" -> "https_huggingface.co", "http://127.0.0.1:8080/" -> "http_127.0.0.1_8080".
// Scheme and host are case-insensitive (lowercased), a default port (80/443) and trailing '/' are dropped, and
// user info (credentials) never reaches a file name. A path prefix (a mirror under /hf) is kept, encoded.
std::string endpoint_key(const std::string& endpoint) {
  std::string key;
  const std::size_t scheme_end = endpoint.find("://");
  if (scheme_end == std::string::npos || scheme_end == 0) {
    key = fmt::format("other_{}", percent_encode(endpoint));
  } else {
    const std::string scheme = lower(endpoint.substr(0, scheme_end));
    const std::size_t authority_start = scheme_end + 3;
    std::size_t authority_end = endpoint.find_first_of("/?#", authority_start);
    if (authority_end == std::string::npos) authority_end = endpoint.size();
    std::string authority = endpoint.substr(authority_start, authority_end - authority_start);
    if (const std::size_t at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
    std::string host = authority;
    std::string port;
    const std::size_t bracket = authority.rfind(']');  // [IPv6]:port
    const std::size_t colon = authority.rfind(':');
    if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    if ((scheme == "https" && port == "443") || (scheme == "http" && port == "80")) port.clear();
    std::string rest = endpoint.substr(authority_end);
    while (!rest.empty() && rest.back() == '/') rest.pop_back();
    key = fmt::format("{}_{}", percent_encode(scheme), percent_encode(lower(host)));
    if (!port.empty()) key += fmt::format("_{}", percent_encode(port));
    if (!rest.empty()) key += fmt::format("_{}", percent_encode(rest));
  }
  if (key.size() > kMaxNameBytes) key = fmt::format("{}_{:016x}", key.substr(0, kMaxNameBytes - 17), fnv1a(endpoint));
  return key;
}

bool is_name_char(char c) { return is_unreserved(c) || c == '_'; }

// A valid repository id as a directory name: "org/name" -> "org--name" ("name" alone, a legacy id, -> "name").
// Parts are [A-Za-z0-9._-], not "." or "..", and (as on the Hub) contain neither "--" nor "..", which also
// keeps the mapping one-to-one. nullopt for anything else: hostile ids never become paths.
std::optional<std::string> repo_dir_name(const std::string& id) {
  if (id.empty() || id.size() > kMaxNameBytes || id.find("--") != std::string::npos ||
      id.find("..") != std::string::npos)
    return std::nullopt;
  const std::size_t slash = id.find('/');
  std::vector<std::string> parts{id.substr(0, slash)};
  if (slash != std::string::npos) parts.push_back(id.substr(slash + 1));
  for (const auto& part : parts) {
    if (part.empty() || part == "." || !std::all_of(part.begin(), part.end(), is_name_char)) return std::nullopt;
  }
  return parts.size() == 2 ? parts[0] + "--" + parts[1] : parts[0];
}

// Commits come from the server (X-Repo-Commit): 40-hex in practice; anything file-name-safe is accepted.
bool is_valid_commit(const std::string& commit) {
  return !commit.empty() && commit.size() <= 128 && commit.front() != '.' &&
         std::all_of(commit.begin(), commit.end(), is_name_char);
}

std::optional<std::string> ref_file_name(const std::string& revision) {
  if (revision.empty()) return std::nullopt;
  std::string name = percent_encode(revision);
  if (name.size() > kMaxNameBytes) return std::nullopt;
  return name;
}

// ---- files -------------------------------------------------------------------------------------------------

// Why a cache file that is there cannot be used (one line naming the file); find() makes it a miss.
class Unusable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A cache file's text; nullopt when there is no such file. Throws Unusable when it is not a regular file, is
// over limits::kMaxCacheEntryBytes (never read into memory) or cannot be read.
std::optional<std::string> read_file(const fs::path& file) {
  std::error_code ec;
  const fs::file_status status = fs::status(file, ec);
  if (!fs::exists(status)) return std::nullopt;
  if (!fs::is_regular_file(status)) throw Unusable(fmt::format("{}: not a regular file", file.string()));
  constexpr std::size_t kLimit = limits::kMaxCacheEntryBytes;
  const auto size = fs::file_size(file, ec);
  auto text = !ec && size > kLimit ? std::nullopt : detail::read_file_limited(file, kLimit);
  if (!text) throw Unusable(fmt::format("{}: unreadable, or over the {} MiB limit", file.string(), kLimit >> 20));
  return text;
}

// The file's JSON; a malformed one (garbage, truncated, nested too deep) is Unusable.
json read_json(const std::string& text, const fs::path& file) {
  try {
    return parse_json_relaxed(text, file.string());
  } catch (const Error& e) {
    throw Unusable(e.what());
  }
}

// Runs a lookup: anything that goes wrong in it is a miss, explained in `unusable` (one line, at most a few
// hundred bytes: a parse error quotes the file's path and position, never its contents).
template <typename Lookup>
std::optional<CachedModel> miss_when_unusable(const Lookup& lookup, std::string* unusable) {
  std::string why;
  try {
    return lookup();
  } catch (const std::exception& e) {
    why = e.what();
  } catch (...) {
    why = "unreadable";
  }
  if (unusable != nullptr) {
    std::replace_if(
        why.begin(), why.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    *unusable = why.substr(0, 400);
  }
  return std::nullopt;
}

// JSON text like json::dump(), except that infinite floats are written as Infinity / -Infinity (which
// parse_json_relaxed reads back) instead of null: configs may hold them and must survive the round trip.
void write_json(std::string& out, const json& j) {
  constexpr auto kReplace = json::error_handler_t::replace;
  switch (j.type()) {
    case json::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, value] : j.items()) {
        if (!first) out.push_back(',');
        first = false;
        out += json(key).dump(-1, ' ', false, kReplace);
        out.push_back(':');
        write_json(out, value);
      }
      out.push_back('}');
      return;
    }
    case json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& value : j) {
        if (!first) out.push_back(',');
        first = false;
        write_json(out, value);
      }
      out.push_back(']');
      return;
    }
    case json::value_t::number_float: {
      const double d = j.get<double>();
      if (std::isinf(d)) {
        out += d > 0 ? "Infinity" : "-Infinity";
        return;
      }
      break;
    }
    default: break;
  }
  out += j.dump(-1, ' ', false, kReplace);
}

std::string random_suffix() {
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::mt19937_64 rng{(static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}() ^
                                   counter.fetch_add(1)};
  return fmt::format("{:016x}{:04x}", rng(), counter.fetch_add(1) & 0xffff);
}

bool write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Creates `file`'s directory, writes `text` to a unique temporary file beside it and renames it over `file`.
// False on any failure, with the temporary file removed.
bool write_atomically(const fs::path& file, const std::string& text) {
  std::error_code ec;
  const fs::path dir = file.parent_path();
  fs::create_directories(dir, ec);
  if (ec && !fs::is_directory(dir)) return false;

  const fs::path temp =
      dir / fmt::format(".{}.tmp.{}.{}", file.filename().string(), static_cast<long>(::getpid()), random_suffix());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  const bool written = write_all(fd, text);
  const bool closed = ::close(fd) == 0;
  if (written && closed) {
    fs::rename(temp, file, ec);
    if (!ec) return true;
  }
  fs::remove(temp, ec);
  return false;
}

// ---- JSON shape --------------------------------------------------------------------------------------------

[[noreturn]] void bad_shape(const std::string& what) { throw Error(ExitCode::BadInput, "cached model entry: " + what); }

const json& member(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) bad_shape(fmt::format("\"{}\" is missing", key));
  return *it;
}

std::string get_string(const json& j, const char* key) {
  const json& v = member(j, key);
  if (!v.is_string()) bad_shape(fmt::format("\"{}\" is not a string", key));
  return v.get<std::string>();
}

std::uint64_t as_u64(const json& v, const std::string& what) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(v.get<std::int64_t>());
  bad_shape(fmt::format("{} is not a non-negative integer", what));
}

std::uint64_t get_u64(const json& j, const char* key) { return as_u64(member(j, key), fmt::format("\"{}\"", key)); }

std::optional<std::uint64_t> get_optional_u64(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return as_u64(*it, fmt::format("\"{}\"", key));
}

std::map<std::string, std::uint64_t> get_u64_map(const json& j, const char* key) {
  const json& v = member(j, key);
  if (!v.is_object()) bad_shape(fmt::format("\"{}\" is not an object", key));
  std::map<std::string, std::uint64_t> out;
  for (const auto& [k, value] : v.items()) out[k] = as_u64(value, fmt::format("\"{}\".\"{}\"", key, k));
  return out;
}

json summary_to_json(const SafetensorsSummary& s) {
  return json{
      {"bytes_by_dtype", s.bytes_by_dtype},
      {"elements_by_dtype", s.elements_by_dtype},
      {"total_bytes", s.total_bytes},
      {"total_elements", s.total_elements},
      {"tensor_count", s.tensor_count},
      {"files", s.files},
      {"metadata", s.metadata},
  };
}

SafetensorsSummary summary_from_json(const json& j) {
  if (!j.is_object()) bad_shape("\"safetensors\" is not an object");
  SafetensorsSummary s;
  s.bytes_by_dtype = get_u64_map(j, "bytes_by_dtype");
  s.elements_by_dtype = get_u64_map(j, "elements_by_dtype");
  s.total_bytes = get_u64(j, "total_bytes");
  s.total_elements = get_u64(j, "total_elements");
  s.tensor_count = get_u64(j, "tensor_count");
  s.files = get_u64(j, "files");
  const json& metadata = member(j, "metadata");
  if (!metadata.is_object()) bad_shape("\"safetensors\".\"metadata\" is not an object");
  for (const auto& [k, value] : metadata.items()) {
    if (!value.is_string()) bad_shape(fmt::format("\"safetensors\".\"metadata\".\"{}\" is not a string", k));
    s.metadata[k] = value.get<std::string>();
  }
  return s;
}

// ---- paths -------------------------------------------------------------------------------------------------

std::optional<fs::path> repo_path(const fs::path& root, const std::string& endpoint, const std::string& id) {
  if (endpoint.empty()) return std::nullopt;
  const auto name = repo_dir_name(id);
  if (!name) return std::nullopt;
  return root / "hub" / endpoint_key(endpoint) / *name;
}

fs::path commit_file(const fs::path& repo, const std::string& commit) { return repo / "commits" / (commit + ".json"); }

}  // namespace

json cached_model_to_json(const CachedModel& m) {
  json j = {
      {"schema_version", kSchemaVersion},
      {"endpoint", m.endpoint},
      {"id", m.id},
      {"revision", m.revision},
      {"commit", m.commit},
      {"config_etag", m.config_etag},
      {"config_file", m.config_file},
      {"config", m.config},
      {"index_total_size", m.index_total_size ? json(*m.index_total_size) : json(nullptr)},
      {"other_total_size", m.other_total_size ? json(*m.other_total_size) : json(nullptr)},
      {"other_total_source", m.other_total_source},
      {"safetensors", m.safetensors ? summary_to_json(*m.safetensors) : json(nullptr)},
      {"fetched_at", m.fetched_at},
  };
  return j;
}

CachedModel cached_model_from_json(const json& j) {
  if (!j.is_object()) bad_shape("not a JSON object");
  const json& version = member(j, "schema_version");
  if (!version.is_number_integer() || version.get<std::int64_t>() != kSchemaVersion)
    bad_shape(fmt::format("unsupported schema_version {}", version.dump().substr(0, 40)));

  CachedModel m;
  m.endpoint = get_string(j, "endpoint");
  m.id = get_string(j, "id");
  m.revision = get_string(j, "revision");
  m.commit = get_string(j, "commit");
  m.config_etag = get_string(j, "config_etag");
  m.config_file = get_string(j, "config_file");
  m.config = member(j, "config");
  if (!m.config.is_object()) bad_shape("\"config\" is not an object");
  m.index_total_size = get_optional_u64(j, "index_total_size");
  m.other_total_size = get_optional_u64(j, "other_total_size");
  m.other_total_source = get_string(j, "other_total_source");
  if (const auto it = j.find("safetensors"); it != j.end() && !it->is_null()) m.safetensors = summary_from_json(*it);
  const json& fetched = member(j, "fetched_at");
  if (!fetched.is_number_integer()) bad_shape("\"fetched_at\" is not an integer");
  if (fetched.is_number_unsigned() &&
      fetched.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    bad_shape("\"fetched_at\" is out of range");
  m.fetched_at = fetched.get<std::int64_t>();
  return m;
}

fs::path ResultCache::default_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    std::string value = xdg;
    if (value == "~" || value.rfind("~/", 0) == 0) value = detail::expand_user(value).string();
    // The XDG spec: a relative value is invalid and ignored.
    if (fs::path(value).is_absolute()) return fs::path(value) / "vram-calc";
  }
  const auto home = detail::home_directory();
  return (home ? *home : fs::path(".")) / ".cache" / "vram-calc";
}

ResultCache::ResultCache(fs::path dir) : dir_(std::move(dir)) {}

std::optional<CachedModel> ResultCache::find_commit(const std::string& endpoint, const std::string& id,
                                                    const std::string& commit, std::string* unusable) const {
  if (unusable != nullptr) unusable->clear();
  return miss_when_unusable(
      [&]() -> std::optional<CachedModel> {
        const auto repo = repo_path(dir_, endpoint, id);
        if (!repo || !is_valid_commit(commit)) return std::nullopt;
        const fs::path file = commit_file(*repo, commit);
        const auto text = read_file(file);
        if (!text) return std::nullopt;
        CachedModel m;
        try {
          m = cached_model_from_json(read_json(*text, file));
        } catch (const Error& e) {
          throw Unusable(fmt::format("{}: {}", file.string(), e.what()));
        }
        // The same endpoint up to spelling (case, default port, trailing '/'), the same repository and commit.
        if (endpoint_key(m.endpoint) != endpoint_key(endpoint) || m.id != id || m.commit != commit)
          throw Unusable(fmt::format("{}: an entry for another endpoint, repository or commit", file.string()));
        return m;
      },
      unusable);
}

std::optional<CachedModel> ResultCache::find(const std::string& endpoint, const std::string& id,
                                             const std::string& revision, std::string* unusable) const {
  if (unusable != nullptr) unusable->clear();
  if (is_commit_hash(revision)) {
    auto m = find_commit(endpoint, id, revision, unusable);
    if (m) m->revision = revision;
    return m;
  }
  return miss_when_unusable(
      [&]() -> std::optional<CachedModel> {
        const auto repo = repo_path(dir_, endpoint, id);
        const auto ref_name = ref_file_name(revision);
        if (!repo || !ref_name) return std::nullopt;
        const fs::path ref_file = *repo / "refs" / *ref_name;
        const auto text = read_file(ref_file);
        if (!text) return std::nullopt;
        const json ref = read_json(*text, ref_file);
        const auto bad_ref = [&] { return Unusable(fmt::format("{}: not a ref of this cache", ref_file.string())); };
        if (!ref.is_object()) throw bad_ref();
        const auto commit = ref.find("commit");
        const auto fetched = ref.find("fetched_at");
        if (commit == ref.end() || !commit->is_string() || fetched == ref.end() || !fetched->is_number_integer())
          throw bad_ref();
        if (fetched->is_number_unsigned() &&
            fetched->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
          throw bad_ref();
        if (!is_valid_commit(commit->get<std::string>())) throw bad_ref();
        std::string entry_problem;
        auto m = find_commit(endpoint, id, commit->get<std::string>(), &entry_problem);
        if (!entry_problem.empty()) throw Unusable(entry_problem);
        if (!m) throw Unusable(fmt::format("{}: names a commit whose entry is missing", ref_file.string()));
        // What was asked for, resolved when the ref was last written (the commit entry may be shared by revisions).
        m->revision = revision;
        m->fetched_at = fetched->get<std::int64_t>();
        return m;
      },
      unusable);
}

bool ResultCache::store(const CachedModel& m) const {
  try {
    const auto repo = repo_path(dir_, m.endpoint, m.id);
    if (!repo || !is_valid_commit(m.commit)) return false;
    const bool write_ref = !is_commit_hash(m.revision) && m.revision != m.commit;
    std::optional<std::string> ref_name;
    if (write_ref) {
      ref_name = ref_file_name(m.revision);
      if (!ref_name) return false;
    }

    const json entry = cached_model_to_json(m);
    std::string text;
    write_json(text, entry);
    text.push_back('\n');
    // The entry first: a ref never points at a commit whose entry was not written.
    if (!write_atomically(commit_file(*repo, m.commit), text)) return false;
    if (!write_ref) return true;

    std::string ref_text;
    write_json(ref_text, json{{"commit", m.commit}, {"fetched_at", m.fetched_at}});
    ref_text.push_back('\n');
    return write_atomically(*repo / "refs" / *ref_name, ref_text);
  } catch (...) {
    return false;
  }
}

}  // namespace vramcalc
