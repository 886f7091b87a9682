// What a vLLM log must never pass on: API keys and tokens, credentials in URLs, user names in local paths.
//
// One pass over each line, left to right, each byte looked at a bounded number of times (linear in the line):
//   - a secret's value after its key, in every spelling vLLM and its users log: 'api_key': 'x' (non-default args,
//     also a list ['x', 'y']), api_key=x (Namespace, config), "api_key": "x", API_KEY=x (environment), and the keys
//     token, hf_token, *_token, secret, password, authorization ("Authorization: Bearer x");
//   - the value of --api-key, --hf-token, --token, --password flags;
//   - "Bearer x" / "Basic x" anywhere; Hugging Face tokens (hf_ and 20+ letters and digits) and OpenAI-style keys
//     (sk- and 20+ characters) anywhere;
//   - scheme://user:password@host: the user part and password become "<redacted>";
//   - /home/<user>/, /Users/<user>/, C:\Users\<user>\ (and C:/Users/<user>/): the user name becomes "<redacted>".
//     /root is kept: it names the superuser, no person. Other absolute paths are kept (nothing says whose they are);
//   - the value of a model key (model, model_tag, tokenizer, served_model_name, ...) that is a local path becomes
//     "<local>/<its last component>", or "<hf-cache>/org/name" for a Hugging Face cache snapshot.
// Redacting an already redacted line changes nothing.
#include <cstddef>
#include <string>
#include <string_view>

#include "sources/vllm_log_internal.hpp"
#include "vramcalc/core/text.hpp"

namespace vramcalc::vllm_log_detail {

namespace {

constexpr std::string_view kRedacted = "<redacted>";

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_word(char c) { return is_alnum(c) || c == '_' || c == '-'; }
bool is_space(char c) { return c == ' '; }
bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// The key's name lowered, '-' as '_'.
std::string key_name(std::string_view word) {
  std::string k = ascii_lower(word);
  for (char& c : k)
    if (c == '-') c = '_';
  return k;
}

bool secret_key(std::string_view word) {
  const std::string k = key_name(word);
  for (const std::string_view exact :
       {"api_key", "apikey", "token", "secret", "password", "passwd", "authorization", "secret_key", "access_key"})
    if (k == exact) return true;
  return ends_with(k, "_api_key") || ends_with(k, "_token") || ends_with(k, "_secret") || ends_with(k, "_password");
}

bool model_key(std::string_view word) {
  const std::string k = key_name(word);
  for (const std::string_view name : {"model", "model_tag", "tokenizer", "served_model_name", "model_name",
                                      "model_path", "speculative_model", "draft_model", "model_id"})
    if (k == name) return true;
  return false;
}

bool looks_like_path(std::string_view v) {
  if (v.empty()) return false;
  if (v[0] == '/' || v[0] == '~' || starts_with(v, "./") || starts_with(v, "../")) return true;
  if (v.size() >= 3 && ((v[0] >= 'A' && v[0] <= 'Z') || (v[0] >= 'a' && v[0] <= 'z')) && v[1] == ':' &&
      (v[2] == '\\' || v[2] == '/'))
    return true;
  return v.find('\\') != std::string_view::npos;
}

enum class Kind { Secret, Model };

std::string transform(Kind kind, std::string_view value) {
  if (value.empty() || value == "None" || value == "null") return std::string(value);
  return kind == Kind::Secret ? std::string(kRedacted) : redact_model_path(value);
}

// Where the quoted string starting with its quote at text[i] ends (its closing quote), or text.size().
std::size_t closing_quote(std::string_view text, std::size_t i) {
  const char q = text[i];
  for (std::size_t j = i + 1; j < text.size(); ++j) {
    if (text[j] == '\\') ++j;
    else if (text[j] == q) return j;
  }
  return text.size();
}

// The redactor of one line.
class Redactor {
 public:
  explicit Redactor(std::string_view line) : s_(line) { out_.reserve(line.size()); }

  std::string run() {
    while (i_ < s_.size()) step();
    return std::move(out_);
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
  std::string out_;

  void copy(std::size_t n) {
    out_.append(s_.substr(i_, n));
    i_ += n;
  }

  void step() {
    const char c = s_[i_];
    if (c == ':' && s_.substr(i_, 3) == "://") return url();
    if (c == '/' && home_path()) return;
    if (c == '\'' || c == '"') return quoted_key();
    if (is_word(c)) return word();
    copy(1);
  }

  // "://user:pass@": the credentials out.
  void url() {
    copy(3);
    std::size_t j = i_;
    std::size_t at = std::string_view::npos;
    while (j < s_.size() && std::string_view("/ \"'<>?#[]").find(s_[j]) == std::string_view::npos) {
      if (s_[j] == '@') at = j;
      ++j;
    }
    if (at == std::string_view::npos || at == i_) return;
    out_ += kRedacted;
    i_ = at;
  }

  // The user part of /home/<user>, /Users/<user>: true when handled.
  bool home_path() {
    for (const std::string_view home : {"/home/", "/Users/"}) {
      if (!starts_with(s_.substr(i_), home)) continue;
      // "/home/" inside a longer path ("/srv/home/x") is still somebody's home: redacted as well.
      copy(home.size());
      user_part();
      return true;
    }
    return false;
  }

  // A user name at i_ (up to the next separator) replaced.
  void user_part() {
    std::size_t j = i_;
    while (j < s_.size() && std::string_view("/\\ '\",;)]}").find(s_[j]) == std::string_view::npos) ++j;
    if (j == i_ || s_[i_] == '<') return;  // nothing, or already redacted
    out_ += kRedacted;
    i_ = j;
  }

  // 'key': / "key": / 'key'= : a secret's or a model's value after it.
  void quoted_key() {
    const char q = s_[i_];
    std::size_t j = i_ + 1;
    while (j < s_.size() && is_word(s_[j]) && j - i_ < 64) ++j;
    const std::string_view word = s_.substr(i_ + 1, j - i_ - 1);
    if (j < s_.size() && s_[j] == q && !word.empty() && (secret_key(word) || model_key(word))) {
      std::size_t k = j + 1;
      while (k < s_.size() && is_space(s_[k])) ++k;
      if (k < s_.size() && (s_[k] == ':' || s_[k] == '=')) {
        copy(k + 1 - i_);
        value(secret_key(word) ? Kind::Secret : Kind::Model);
        return;
      }
    }
    copy(1);
  }

  void word() {
    std::size_t j = i_;
    while (j < s_.size() && is_word(s_[j])) ++j;
    const std::string_view w = s_.substr(i_, j - i_);
    if (w.size() == 1 && windows_home(j)) return;
    if (token(w)) return;
    if (starts_with(w, "--") && secret_key(w.substr(2))) return flag(w);
    if ((w == "Bearer" || w == "bearer" || w == "Basic") && j + 1 < s_.size() && s_[j] == ' ' && s_[j + 1] != ' ') {
      copy(w.size() + 1);
      bare(Kind::Secret);
      return;
    }
    if (!w.empty() && (secret_key(w) || model_key(w)) && key_value(w, j)) return;
    copy(w.size());
  }

  // C:\Users\<user> or C:/Users/<user> with the drive letter at i_: true when handled.
  bool windows_home(std::size_t after_letter) {
    const std::string_view rest = s_.substr(after_letter);
    if (!starts_with(rest, ":\\Users\\") && !starts_with(rest, ":/Users/")) return false;
    copy(1 + 8);
    user_part();
    return true;
  }

  // hf_... and sk-... tokens: true when `w` is one (and was replaced).
  bool token(std::string_view w) {
    const auto long_run = [](std::string_view rest, bool dashes) {
      if (rest.size() < 20 || rest == kRedacted) return false;
      for (const char c : rest)
        if (!is_alnum(c) && !(dashes && (c == '-' || c == '_'))) return false;
      return true;
    };
    const bool hf = starts_with(w, "hf_") && long_run(w.substr(3), false);
    const bool sk = starts_with(w, "sk-") && long_run(w.substr(3), true);
    if (!hf && !sk) return false;
    out_.append(w.substr(0, 3));
    out_ += kRedacted;
    i_ += w.size();
    return true;
  }

  // --api-key X / --api-key=X.
  void flag(std::string_view w) {
    copy(w.size());
    if (i_ < s_.size() && (s_[i_] == '=' || s_[i_] == ' ')) {
      copy(1);
      while (i_ < s_.size() && is_space(s_[i_])) copy(1);
      value(Kind::Secret);
    }
  }

  // key=value / key: value for a secret or model key `w` ending at j: true when handled.
  bool key_value(std::string_view w, std::size_t j) {
    std::size_t k = j;
    if (k < s_.size() && s_[k] == '=') {
      ++k;
    } else if (k + 1 < s_.size() && s_[k] == ':' && s_[k + 1] == ' ') {
      k += 2;
    } else {
      return false;
    }
    copy(k - i_);
    while (i_ < s_.size() && is_space(s_[i_])) copy(1);
    value(secret_key(w) ? Kind::Secret : Kind::Model);
    return true;
  }

  // The value at i_: a quoted string, a list or tuple of them, or a bare word.
  void value(Kind kind) {
    while (i_ < s_.size() && is_space(s_[i_])) copy(1);
    if (i_ >= s_.size()) return;
    const char c = s_[i_];
    if (c == '\'' || c == '"') return quoted(kind);
    if (c == '[' || c == '(') return list(kind);
    if (c == '{') return;  // a dict: its own keys are looked at as the scan goes on
    bare(kind);
  }

  void quoted(Kind kind) {
    const std::size_t end = closing_quote(s_, i_);
    out_ += s_[i_];
    out_ += transform(kind, s_.substr(i_ + 1, end - i_ - 1));
    if (end < s_.size()) out_ += s_[end];
    i_ = end < s_.size() ? end + 1 : end;
  }

  // [..] or (..): every quoted string in it transformed, up to the matching bracket.
  void list(Kind kind) {
    int depth = 0;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '\'' || c == '"') {
        quoted(kind);
        continue;
      }
      if (c == '[' || c == '(') ++depth;
      if (c == ']' || c == ')') --depth;
      copy(1);
      if (depth == 0) return;
    }
  }

  void bare(Kind kind) {
    std::size_t j = i_;
    while (j < s_.size() && std::string_view(" ,;&)]}'\"").find(s_[j]) == std::string_view::npos) ++j;
    std::string_view v = s_.substr(i_, j - i_);
    // "Authorization: Bearer x": the scheme and its credentials both go.
    if (kind == Kind::Secret && (v == "Bearer" || v == "bearer" || v == "Basic") && j + 1 < s_.size() && s_[j] == ' ') {
      copy(v.size() + 1);
      return bare(kind);
    }
    if (v == "True" || v == "False" || v == "true" || v == "false") {
      copy(v.size());
      return;
    }
    out_ += transform(kind, v);
    i_ = j;
  }
};

}  // namespace

std::string redact_model_path(std::string_view value) {
  if (!looks_like_path(value)) return std::string(value);
  // A Hugging Face cache snapshot: .../models--org--name/snapshots/<sha>.
  if (const std::size_t at = value.find("models--"); at != std::string_view::npos) {
    const std::size_t end = value.find_first_of("/\\", at);
    const std::string_view segment = value.substr(at + 8, end == std::string_view::npos ? end : end - at - 8);
    const std::size_t split = segment.find("--");
    if (split != std::string_view::npos && split > 0 && split + 2 < segment.size())
      return "<hf-cache>/" + std::string(segment.substr(0, split)) + "/" + std::string(segment.substr(split + 2));
  }
  std::string_view trimmed = value;
  while (!trimmed.empty() && (trimmed.back() == '/' || trimmed.back() == '\\')) trimmed.remove_suffix(1);
  const std::size_t slash = trimmed.find_last_of("/\\");
  const std::string_view last = slash == std::string_view::npos ? trimmed : trimmed.substr(slash + 1);
  if (last.empty() || last == "~" || last == "." || last == "..") return "<local>";
  return "<local>/" + std::string(last);
}

std::string redact_clean_line(std::string_view line) { return Redactor(line).run(); }

}  // namespace vramcalc::vllm_log_detail

namespace vramcalc {

std::string redact_log_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find_first_of("\r\n", start);
    if (end == std::string_view::npos) end = text.size();
    out += vllm_log_detail::redact_clean_line(vllm_log_detail::clean_line(text.substr(start, end - start), false));
    if (end == text.size()) break;
    out += '\n';
    // "\r\n" is one line break.
    start = text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n' ? end + 2 : end + 1;
  }
  return out;
}

}  // namespace vramcalc
