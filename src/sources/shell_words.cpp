// Shell words and server command lines (sources/shell_words.hpp). Linear in the input: every loop advances.
#include "vramcalc/sources/shell_words.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace vramcalc {

namespace {

bool name_char(char c, bool first) {
  return c == '_' || std::isalpha(static_cast<unsigned char>(c)) != 0 ||
         (!first && std::isdigit(static_cast<unsigned char>(c)) != 0);
}

// The word being built and whether anything (even an empty quote) made it a word.
struct Word {
  std::string text;
  bool started = false;
};

class Splitter {
 public:
  Splitter(std::string_view s, const EnvLookup& env) : s_(s), env_(env) {}

  ShellScript run() {
    while (i_ < s_.size()) step();
    end_word();
    end_command();
    return std::move(out_);
  }

 private:
  void step() {
    const char c = s_[i_];
    if (c == '\\') return backslash();
    if (c == '\'') return single_quoted();
    if (c == '"') return double_quoted();
    if (c == '$') return dollar(word_.text);
    if (c == '#' && !word_.started) return comment();
    if (c == ';' || c == '&' || c == '|' || c == '\n') {
      end_word();
      end_command();
      ++i_;
      return;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      end_word();
      ++i_;
      return;
    }
    word_.text += c;
    word_.started = true;
    ++i_;
  }

  void backslash() {
    if (i_ + 1 < s_.size() && s_[i_ + 1] == '\n') {  // a line continuation
      i_ += 2;
      return;
    }
    if (i_ + 1 < s_.size()) word_.text += s_[i_ + 1];
    word_.started = true;
    i_ += 2;
  }

  void single_quoted() {
    const std::size_t end = s_.find('\'', i_ + 1);
    word_.started = true;
    if (end == std::string_view::npos) {
      out_.problems.emplace_back("an unclosed single quote");
      word_.text.append(s_.substr(i_ + 1));
      i_ = s_.size();
      return;
    }
    word_.text.append(s_.substr(i_ + 1, end - i_ - 1));
    i_ = end + 1;
  }

  void double_quoted() {
    word_.started = true;
    ++i_;
    while (i_ < s_.size() && s_[i_] != '"') {
      const char c = s_[i_];
      if (c == '\\' && i_ + 1 < s_.size() && std::string_view("$`\"\\\n").find(s_[i_ + 1]) != std::string_view::npos) {
        if (s_[i_ + 1] != '\n') word_.text += s_[i_ + 1];
        i_ += 2;
      } else if (c == '$') {
        dollar(word_.text);
      } else {
        word_.text += c;
        ++i_;
      }
    }
    if (i_ >= s_.size()) out_.problems.emplace_back("an unclosed double quote");
    ++i_;
  }

  // $NAME, ${NAME}, ${NAME:-default}; $(...) and $((...)) are kept as written.
  // An unquoted expansion to nothing makes no word, as in sh.
  void dollar(std::string& into) {
    const std::size_t before = into.size();
    expand(into);
    if (into.size() > before) word_.started = true;
  }

  void expand(std::string& into) {
    const std::size_t start = i_;
    ++i_;
    if (i_ < s_.size() && s_[i_] == '(') {
      int depth = 0;
      while (i_ < s_.size()) {
        if (s_[i_] == '(') ++depth;
        if (s_[i_] == ')' && --depth == 0) break;
        ++i_;
      }
      i_ = std::min(i_ + 1, s_.size());
      into.append(s_.substr(start, i_ - start));
      out_.problems.push_back(
          fmt::format("a command substitution ({})", s_.substr(start, std::min<std::size_t>(i_ - start, 40))));
      return;
    }
    std::string name;
    std::optional<std::string> fallback;
    if (i_ < s_.size() && s_[i_] == '{') {
      const std::size_t close = s_.find('}', i_);
      if (close == std::string_view::npos) {
        out_.problems.emplace_back("an unclosed ${");
        into.append(s_.substr(start));
        i_ = s_.size();
        return;
      }
      std::string_view inner = s_.substr(i_ + 1, close - i_ - 1);
      const std::size_t dash = inner.find(":-");
      if (dash != std::string_view::npos) {
        fallback = std::string(inner.substr(dash + 2));
        inner = inner.substr(0, dash);
      }
      name = std::string(inner);
      i_ = close + 1;
    } else {
      while (i_ < s_.size() && name_char(s_[i_], name.empty())) name += s_[i_++];
      if (name.empty()) {  // a lone $
        into += '$';
        return;
      }
    }
    if (auto value = env_(name); value && !(value->empty() && fallback)) {
      into += *value;
    } else if (fallback) {
      into += *fallback;
    } else {
      out_.problems.push_back(fmt::format("${} is not set in the container's environment", name));
    }
  }

  void comment() {
    const std::size_t end = s_.find('\n', i_);
    i_ = end == std::string_view::npos ? s_.size() : end;
  }

  void end_word() {
    if (!word_.started) return;
    // VAR=value before the command's first word is an assignment.
    const std::size_t eq = word_.text.find('=');
    const bool assignment = current_.words.empty() && eq != std::string::npos && eq > 0 &&
                            std::all_of(word_.text.begin(), word_.text.begin() + static_cast<std::ptrdiff_t>(eq),
                                        [&](char c) { return name_char(c, false); }) &&
                            name_char(word_.text.front(), true);
    if (assignment) current_.assignments.emplace_back(word_.text.substr(0, eq), word_.text.substr(eq + 1));
    else current_.words.push_back(std::move(word_.text));
    word_ = Word{};
  }

  void end_command() {
    if (!current_.words.empty() || !current_.assignments.empty()) out_.commands.push_back(std::move(current_));
    current_ = ShellCommand{};
  }

  std::string_view s_;
  const EnvLookup& env_;
  std::size_t i_ = 0;
  Word word_;
  ShellCommand current_;
  ShellScript out_;
};

std::string basename_of(const std::string& word) {
  const std::size_t slash = word.rfind('/');
  return slash == std::string::npos ? word : word.substr(slash + 1);
}

bool is_shell(const std::string& word) {
  const std::string b = basename_of(word);
  return b == "sh" || b == "bash" || b == "dash" || b == "ash" || b == "zsh";
}

bool is_python(const std::string& word) {
  const std::string b = basename_of(word);
  return b.rfind("python", 0) == 0;
}

// Where a server starts in `words` (from `from`), and how many words name it.
struct ServerStart {
  ServerKind kind;
  std::size_t at = 0;
  std::size_t length = 0;
};

std::optional<ServerStart> server_start(const std::vector<std::string>& words) {
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string b = basename_of(words[i]);
    if (b == "vllm" && i + 1 < words.size() && words[i + 1] == "serve") return ServerStart{ServerKind::Vllm, i, 2};
    if (b == "text-generation-launcher") return ServerStart{ServerKind::Tgi, i, 1};
    if (is_python(words[i]) && i + 2 < words.size() && words[i + 1] == "-m") {
      const std::string& module = words[i + 2];
      if (module == "vllm.entrypoints.openai.api_server" || module == "vllm.entrypoints.api_server")
        return ServerStart{ServerKind::Vllm, i, 3};
      if (module == "huggingfaceserver" || module == "kserve.huggingfaceserver")
        return ServerStart{ServerKind::KserveHuggingFace, i, 3};
    }
  }
  return std::nullopt;
}

std::string joined(const std::vector<std::string>& words, std::size_t from, std::size_t count) {
  std::string out;
  for (std::size_t i = from; i < from + count && i < words.size(); ++i) out += (out.empty() ? "" : " ") + words[i];
  return out;
}

}  // namespace

ShellScript split_shell(std::string_view script, const EnvLookup& env) { return Splitter(script, env).run(); }

std::string expand_k8s_vars(std::string_view text, const EnvLookup& env,
                            const std::function<bool(std::string_view)>& defined, std::vector<std::string>& unknown) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    if (text[i + 1] == '$') {  // $$ is a literal $
      out += '$';
      ++i;
      continue;
    }
    const std::size_t close = text[i + 1] == '(' ? text.find(')', i + 2) : std::string_view::npos;
    if (close == std::string_view::npos) {
      out += text[i];
      continue;
    }
    const std::string_view name = text.substr(i + 2, close - i - 2);
    if (auto value = env(name)) {
      out += *value;
    } else {
      if (defined(name)) unknown.emplace_back(name);
      out.append(text.substr(i, close - i + 1));
    }
    i = close;
  }
  return out;
}

std::optional<ServerCommand> find_server(const std::vector<std::string>& words,
                                         std::optional<ServerKind> image_entrypoint, const EnvLookup& env,
                                         std::vector<std::string>& problems) {
  // A shell running a script: the script is searched, command by command.
  for (std::size_t i = 0; i + 1 < words.size() && i < 2; ++i) {
    if (!is_shell(words[i])) continue;
    for (std::size_t j = i + 1; j < words.size(); ++j) {
      const std::string& option = words[j];
      if (option.size() < 2 || option[0] != '-') break;
      if (option.find('c') == std::string::npos || j + 1 >= words.size()) continue;
      ShellScript script = split_shell(words[j + 1], env);
      for (auto& command : script.commands) {
        if (const auto start = server_start(command.words)) {
          problems.insert(problems.end(), script.problems.begin(), script.problems.end());
          ServerCommand server{
              start->kind,
              joined(command.words, start->at, start->length),
              {command.words.begin() + static_cast<std::ptrdiff_t>(start->at + start->length), command.words.end()},
              command.assignments};
          return server;
        }
      }
      return std::nullopt;
    }
  }
  if (const auto start = server_start(words))
    return ServerCommand{start->kind,
                         joined(words, start->at, start->length),
                         {words.begin() + static_cast<std::ptrdiff_t>(start->at + start->length), words.end()},
                         {}};
  // No command of its own (only args): the image's entrypoint runs them.
  if (image_entrypoint) return ServerCommand{*image_entrypoint, "the image's entrypoint", words, {}};
  return std::nullopt;
}

}  // namespace vramcalc
