// The fake Hugging Face Hub itself (tests/fakehub/server.py through the FakeHub fixture), checked with libcurl
// directly, so that Hub client tests can rely on its behaviour.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "fakehub.hpp"
#include "support.hpp"

namespace {

using nlohmann::json;

struct Request {
  std::string method = "GET";  // or "HEAD"
  std::vector<std::string> headers;
  std::string range;      // "0-7" -> CURLOPT_RANGE
  std::string ca_bundle;  // CURLOPT_CAINFO when set
  bool follow = false;    // CURLOPT_FOLLOWLOCATION

  Request& head() {
    method = "HEAD";
    return *this;
  }
  Request& with(std::string header_line) {
    headers.push_back(std::move(header_line));
    return *this;
  }
  Request& bytes(std::string r) {
    range = std::move(r);
    return *this;
  }
  Request& ca(std::string file) {
    ca_bundle = std::move(file);
    return *this;
  }
  Request& follow_redirects() {
    follow = true;
    return *this;
  }
};

struct Reply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-cased names, of the last response
  std::string body;
  std::string error;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto& headers = *static_cast<std::map<std::string, std::string>*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) headers.clear();  // a new response (after a redirect)
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    const auto first = value.find_first_not_of(" \t");
    const auto last = value.find_last_not_of(" \t\r\n");
    headers[name] = first == std::string::npos ? "" : value.substr(first, last - first + 1);
  }
  return size * n;
}

Reply fetch(const std::string& url, const Request& req = {}) {
  Reply r;
  CURL* curl = curl_easy_init();
  REQUIRE(curl != nullptr);
  char error[CURL_ERROR_SIZE] = {};
  curl_slist* list = nullptr;
  for (const auto& h : req.headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, req.follow ? 1L : 0L);
  if (req.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!req.range.empty()) curl_easy_setopt(curl, CURLOPT_RANGE, req.range.c_str());
  if (!req.ca_bundle.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, req.ca_bundle.c_str());
  r.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  r.error = error[0] ? error : curl_easy_strerror(r.code);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return r;
}

std::string header(const Reply& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? std::string() : it->second;
}

std::string slurp(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json repo_desc(const std::string& dir) { return json::parse(slurp(FakeHub::repos_dir() / dir / "_repo.json")); }

bool is_quoted_sha256(const std::string& etag) {
  if (etag.size() != 66 || etag.front() != '"' || etag.back() != '"') return false;
  for (std::size_t i = 1; i < 65; ++i)
    if (!std::isxdigit(static_cast<unsigned char>(etag[i]))) return false;
  return true;
}

std::uint64_t le64(const std::string& bytes) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes.at(static_cast<std::size_t>(i)));
  return v;
}

struct ShardHeader {
  json header;                   // the parsed JSON header
  std::uint64_t header_len = 0;  // the 8-byte prefix
  std::uint64_t size = 0;        // the file size, from Content-Range
  std::uint64_t data_end = 0;    // the largest data_offsets end
};

// Reads a shard's safetensors header with two Range requests (the prefix, then exactly the header).
ShardHeader read_header(const std::string& url, Request req = {}) {
  ShardHeader out;
  req.range = "0-7";
  auto prefix = fetch(url, req);
  REQUIRE(prefix.code == CURLE_OK);
  REQUIRE(prefix.status == 206);
  REQUIRE(prefix.body.size() == 8);
  out.header_len = le64(prefix.body);
  req.range = "8-" + std::to_string(8 + out.header_len - 1);
  auto head = fetch(url, req);
  REQUIRE(head.status == 206);
  REQUIRE(head.body.size() == out.header_len);
  const auto range = header(head, "content-range");
  CHECK(range == "bytes 8-" + std::to_string(8 + out.header_len - 1) + range.substr(range.find('/')));
  out.size = std::stoull(range.substr(range.find('/') + 1));
  out.header = json::parse(head.body);
  for (const auto& [name, t] : out.header.items())
    if (name != "__metadata__") out.data_end = std::max(out.data_end, t["data_offsets"][1].get<std::uint64_t>());
  return out;
}

}  // namespace

TEST_CASE("fake hub: resolve answers with the commit, an ETag and the file", "[fakehub]") {
  FakeHub hub;
  const auto desc = repo_desc("acme--sharded");
  const auto base = hub.endpoint() + "/acme/sharded/resolve/";

  auto r = fetch(base + "main/config.json");
  REQUIRE(r.code == CURLE_OK);
  CHECK(r.status == 200);
  CHECK(header(r, "x-repo-commit") == desc["refs"]["main"].get<std::string>());
  CHECK(is_quoted_sha256(header(r, "etag")));
  CHECK(header(r, "accept-ranges") == "bytes");
  CHECK(header(r, "content-length") == std::to_string(r.body.size()));
  CHECK(r.body == slurp(FakeHub::repos_dir() / "acme--sharded" / "config.json"));

  // A tag, and a full commit hash, are revisions too.
  auto tag = fetch(base + "v1.0/config.json");
  CHECK(tag.status == 200);
  CHECK(header(tag, "x-repo-commit") == desc["refs"]["v1.0"].get<std::string>());
  CHECK(header(tag, "x-repo-commit") != header(r, "x-repo-commit"));
  auto by_commit = fetch(base + desc["refs"]["v1.0"].get<std::string>() + "/config.json");
  CHECK(by_commit.status == 200);
  CHECK(header(by_commit, "x-repo-commit") == desc["refs"]["v1.0"].get<std::string>());

  // HEAD: the same headers, no body.
  auto head = fetch(base + "main/config.json", Request().head());
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(header(head, "etag") == header(r, "etag"));
  CHECK(header(head, "content-length") == std::to_string(r.body.size()));

  auto no_repo = fetch(hub.endpoint() + "/acme/missing/resolve/main/config.json");
  CHECK(no_repo.status == 404);
  CHECK(header(no_repo, "x-error-code") == "RepoNotFound");
  auto no_rev = fetch(base + "v9.9/config.json");
  CHECK(no_rev.status == 404);
  CHECK(header(no_rev, "x-error-code") == "RevisionNotFound");
  auto no_file = fetch(base + "main/missing.json");
  CHECK(no_file.status == 404);
  CHECK(header(no_file, "x-error-code") == "EntryNotFound");

  auto stats = hub.stats();
  REQUIRE(stats["requests"].size() == 7);
  CHECK(stats["requests"][0]["method"] == "GET");
  CHECK(stats["requests"][0]["path"] == "/acme/sharded/resolve/main/config.json");
  CHECK(stats["requests"][0]["status"] == 200);
  CHECK(stats["requests"][0]["auth"] == false);
  CHECK(stats["requests"][0]["range"].is_null());
  CHECK(stats["requests"][0]["body_bytes"] == r.body.size());
  CHECK(stats["requests"][3]["method"] == "HEAD");
  CHECK(stats["requests"][3]["body_bytes"] == 0);
}

TEST_CASE("fake hub: virtual shards serve real headers by Range and zeros after them", "[fakehub]") {
  FakeHub hub;
  const auto base = hub.endpoint() + "/acme/sharded/resolve/main/";
  const auto index = json::parse(slurp(FakeHub::repos_dir() / "acme--sharded" / "model.safetensors.index.json"));
  std::uint64_t data_bytes = 0;
  std::uint64_t tensors = 0;
  for (int i = 1; i <= 4; ++i) {
    const auto shard = "model-0000" + std::to_string(i) + "-of-00004.safetensors";
    const auto h = read_header(base + shard);
    for (const auto& [name, t] : h.header.items()) {
      if (name == "__metadata__") continue;
      CHECK(index["weight_map"][name] == shard);
      CHECK(t["dtype"] == "BF16");
      ++tensors;
    }
    data_bytes += h.data_end;
    CHECK(h.size == 8 + h.header_len + h.data_end);
    const auto size = h.size;
    auto head = fetch(base + shard, Request().head());
    CHECK(header(head, "x-linked-size") == std::to_string(size));
    CHECK(header(head, "x-linked-etag") == header(head, "etag"));
    CHECK(std::stoull(header(head, "content-length")) == size);
  }
  CHECK(tensors == index["weight_map"].size());
  CHECK(data_bytes == index["metadata"]["total_size"].get<std::uint64_t>());

  // Bytes past the header are zeros; "a-" ranges are clamped to the end; a start past the end is 416.
  auto tail = fetch(base + "model-00004-of-00004.safetensors", Request().bytes("1000000-1000015"));
  CHECK(tail.status == 206);
  CHECK(tail.body == std::string(16, '\0'));
  auto head = fetch(base + "model-00004-of-00004.safetensors", Request().head());
  const auto size = std::stoull(header(head, "content-length"));
  auto open_end = fetch(base + "model-00004-of-00004.safetensors", Request().bytes(std::to_string(size - 4) + "-"));
  CHECK(open_end.status == 206);
  CHECK(header(open_end, "content-range") ==
        "bytes " + std::to_string(size - 4) + "-" + std::to_string(size - 1) + "/" + std::to_string(size));
  CHECK(open_end.body.size() == 4);
  auto beyond = fetch(base + "model-00004-of-00004.safetensors", Request().bytes(std::to_string(size) + "-"));
  CHECK(beyond.status == 416);

  // Only headers went over the wire: the stats make "no tensor data downloaded" measurable.
  auto stats = hub.stats();
  CHECK(stats["bytes_sent"].get<std::uint64_t>() < 200'000);
  CHECK(data_bytes > 2'000'000'000ULL);
}

TEST_CASE("fake hub: If-None-Match with the ETag answers 304", "[fakehub]") {
  FakeHub hub;
  const auto url = hub.endpoint() + "/acme/single/resolve/main/config.json";
  auto first = fetch(url);
  REQUIRE(first.status == 200);
  const auto etag = header(first, "etag");
  auto again = fetch(url, Request().with("If-None-Match: " + etag));
  CHECK(again.status == 304);
  CHECK(again.body.empty());
  CHECK(header(again, "etag") == etag);
  CHECK(header(again, "x-repo-commit") == header(first, "x-repo-commit"));
  auto other = fetch(url, Request().with("If-None-Match: \"0000\""));
  CHECK(other.status == 200);
}

TEST_CASE("fake hub: switched at run time to ignore If-None-Match, and to move a ref", "[fakehub]") {
  FakeHub hub;
  const auto url = hub.endpoint() + "/acme/single/resolve/main/config.json";
  auto first = fetch(url);
  REQUIRE(first.status == 200);
  const auto etag = header(first, "etag");
  hub.ignore_if_none_match();
  auto ignored = fetch(url, Request().with("If-None-Match: " + etag));
  CHECK(ignored.status == 200);  // as a mirror or proxy that ignores it
  CHECK(ignored.body == first.body);
  CHECK(header(ignored, "etag") == etag);
  hub.ignore_if_none_match(false);
  CHECK(fetch(url, Request().with("If-None-Match: " + etag)).status == 304);

  const std::string moved = "0123456789abcdef0123456789abcdef01234567";
  hub.move_ref("acme/single", "main", moved);
  auto after = fetch(url);
  CHECK(after.status == 200);
  CHECK(header(after, "x-repo-commit") == moved);
  CHECK(after.body == first.body);  // the same files under the new commit
  CHECK(fetch(hub.endpoint() + "/acme/single/resolve/" + moved + "/config.json").status == 200);
  // The old commit stays a valid revision.
  CHECK(fetch(hub.endpoint() + "/acme/single/resolve/" + header(first, "x-repo-commit") + "/config.json").status ==
        200);
}

TEST_CASE("fake hub: a gated repository wants the right bearer token", "[fakehub]") {
  FakeHub hub;
  const auto url = hub.endpoint() + "/acme/gated/resolve/main/config.json";
  auto anonymous = fetch(url);
  CHECK(anonymous.status == 401);
  CHECK(header(anonymous, "x-error-code") == "GatedRepo");
  CHECK(json::parse(anonymous.body).contains("error"));
  auto wrong = fetch(url, Request().with("Authorization: Bearer hf_wrong"));
  CHECK(wrong.status == 403);
  CHECK(header(wrong, "x-error-code") == "GatedRepo");
  auto right = fetch(url, Request().with("Authorization: Bearer hf_test_token_123"));
  CHECK(right.status == 200);
  auto stats = hub.stats();
  REQUIRE(stats["requests"].size() == 3);
  CHECK(stats["requests"][0]["auth"] == false);
  CHECK(stats["requests"][2]["auth"] == true);
}

TEST_CASE("fake hub: LFS files redirect to the other host name, which must not get the token", "[fakehub]") {
  FakeHub hub;
  const std::string auth = "Authorization: Bearer hf_test_token_123";
  const auto url = hub.endpoint() + "/acme/redirect/resolve/main/model-00001-of-00002.safetensors";
  const auto commit = repo_desc("acme--redirect")["refs"]["main"].get<std::string>();

  auto redirect = fetch(url, Request().with(auth).bytes("0-7"));
  CHECK(redirect.status == 302);
  const auto location = header(redirect, "location");
  CHECK(location == "http://localhost:" + std::to_string(hub.port()) + "/cdn/acme--redirect/" + commit +
                        "/model-00001-of-00002.safetensors");
  CHECK(header(redirect, "x-repo-commit") == commit);
  CHECK(!header(redirect, "x-linked-size").empty());
  CHECK(is_quoted_sha256(header(redirect, "etag")));
  CHECK(fetch(url).status == 401);  // the main host still wants the token

  // Followed without the token: served, with Range.
  auto cdn = fetch(location, Request().bytes("0-7"));
  CHECK(cdn.status == 206);
  CHECK(cdn.body.size() == 8);
  CHECK(hub.stats()["token_leaked"] == false);

  // libcurl following the redirect itself drops a custom Authorization header on the host change.
  auto followed = fetch(url, Request().with(auth).bytes("0-7").follow_redirects());
  CHECK(followed.status == 206);
  CHECK(le64(followed.body) > 0);
  auto stats = hub.stats();
  CHECK(stats["token_leaked"] == false);
  CHECK(stats["requests"].back()["host"] == "localhost:" + std::to_string(hub.port()));
  CHECK(stats["requests"].back()["auth"] == false);

  // A token sent to /cdn/ is a leak: 400, and the stats say so.
  auto leaked = fetch(location, Request().with(auth).bytes("0-7"));
  CHECK(leaked.status == 400);
  CHECK(hub.stats()["token_leaked"] == true);
}

TEST_CASE("fake hub: injected faults", "[fakehub]") {
  FakeHub hub;
  const auto base = hub.endpoint() + "/acme/";

  // statuses: served to the first requests of the file, then normal service.
  CHECK(fetch(base + "flaky/resolve/main/config.json").status == 500);
  CHECK(fetch(base + "flaky/resolve/main/config.json").status == 500);
  CHECK(fetch(base + "flaky/resolve/main/config.json").status == 200);
  CHECK(fetch(base + "flaky/resolve/main/config.json").status == 200);
  auto limited = fetch(base + "flaky/resolve/main/model.safetensors", Request().bytes("0-7"));
  CHECK(limited.status == 429);
  CHECK(header(limited, "retry-after") == "1");
  CHECK(fetch(base + "flaky/resolve/main/model.safetensors", Request().bytes("0-7")).status == 206);

  // truncate: the full Content-Length, half the body, then the connection closes.
  auto truncated = fetch(base + "truncated/resolve/main/config.json");
  CHECK(truncated.code == CURLE_PARTIAL_FILE);
  const auto full = slurp(FakeHub::repos_dir() / "acme--truncated" / "config.json");
  CHECK(truncated.body == full.substr(0, full.size() / 2));

  // header_length: the 8-byte prefix claims a 1 TiB header.
  auto huge = fetch(base + "hugeheader/resolve/main/model.safetensors", Request().bytes("0-7"));
  CHECK(huge.status == 206);
  CHECK(le64(huge.body) == 1099511627776ULL);

  auto stats = hub.stats();
  REQUIRE(stats["requests"].size() == 8);
  CHECK(stats["requests"][6]["status"] == 200);
  CHECK(stats["requests"][6]["body_bytes"] == full.size() / 2);
}

TEST_CASE("fake hub: HTTPS verifies with the test CA and fails without it", "[fakehub]") {
  FakeHub hub(/*tls=*/true);
  CHECK(hub.endpoint() == "https://127.0.0.1:" + std::to_string(hub.port()));
  const auto path = "/acme/single/resolve/main/config.json";
  auto ok = fetch(hub.endpoint() + path, Request().ca(hub.ca_bundle()));
  CHECK(ok.code == CURLE_OK);
  CHECK(ok.status == 200);
  auto by_name = fetch("https://localhost:" + std::to_string(hub.port()) + path, Request().ca(hub.ca_bundle()));
  CHECK(by_name.code == CURLE_OK);
  auto untrusted = fetch(hub.endpoint() + path);
  CHECK(untrusted.code == CURLE_PEER_FAILED_VERIFICATION);
  INFO(untrusted.error);
  CHECK(untrusted.status == 0);
}

TEST_CASE("fake hub: every test repository loads", "[fakehub]") {
  FakeHub hub;
  const auto base = hub.endpoint() + "/acme/";
  CHECK(fetch(base + "mistral/resolve/main/params.json").status == 200);
  CHECK(fetch(base + "mistral/resolve/main/config.json").status == 404);
  const auto mistral = read_header(base + "mistral/resolve/main/consolidated.safetensors");
  CHECK(mistral.header.contains("tok_embeddings.weight"));
  CHECK(mistral.header.contains("layers.31.feed_forward.w2.weight"));
  CHECK(mistral.header.contains("output.weight"));
  CHECK(mistral.size > 14'000'000'000ULL);
  auto bin = fetch(base + "binonly/resolve/main/pytorch_model.bin.index.json");
  CHECK(json::parse(bin.body)["metadata"]["total_size"] == 13476839424ULL);
  CHECK(fetch(base + "binonly/resolve/main/model.safetensors.index.json").status == 404);
  const auto index = json::parse(fetch(base + "manyshards/resolve/main/model.safetensors.index.json").body);
  std::uint64_t total = 0;
  for (int i = 1; i <= 16; ++i) {
    const auto name = std::string("model-000") + (i < 10 ? "0" : "") + std::to_string(i) + "-of-00016.safetensors";
    total += read_header(base + "manyshards/resolve/main/" + name).data_end;
  }
  CHECK(total == index["metadata"]["total_size"].get<std::uint64_t>());
}
