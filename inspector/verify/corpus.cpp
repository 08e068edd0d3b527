// Each file gets a forked child with a pipe. The child runs the stages in order and writes one line per stage,
// "ok STAGE" or "refused STAGE REASON", stopping at the first refusal; the parent reads the lines as they come,
// waits for the child with wait4 (which also gives its peak RSS), and kills it when it runs out of time. A child
// that ends without a line for every stage it started, or by a signal, crashed.
#include "verify/corpus.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "commands.hpp"
#include "inputs.hpp"
#include "json_text.hpp"
#include "mapped_file.hpp"
#include "memory/image_section.hpp"
#include "pe/debug.hpp"
#include "pe/exports.hpp"
#include "pe/image.hpp"
#include "pe/imports.hpp"
#include "pe/load_config.hpp"
#include "pe/relocs.hpp"
#include "pe/tls.hpp"
#include "process/process.hpp"
#include "table.hpp"

namespace pemap::inspect {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kStages[] = {"parse", "map", "load"};

// ---- the child ----

void say(int fd, const std::string& line) {
  const std::string l = line + "\n";
  if (::write(fd, l.data(), l.size()) < 0) ::_exit(3);
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return printable(s);
}

// Every table the inspector shows, read through the parser.
Result<bool> parse_stage(const pe::Image& image) {
  if (auto r = pe::parse_imports(image); !r) return r.take_error();
  if (auto r = pe::parse_delay_imports(image); !r) return r.take_error();
  if (auto r = pe::parse_bound_imports(image); !r) return r.take_error();
  if (auto r = pe::parse_exports(image); !r) return r.take_error();
  if (auto r = pe::parse_relocations(image); !r) return r.take_error();
  if (auto r = pe::parse_tls(image); !r) return r.take_error();
  if (auto r = pe::parse_load_config(image); !r) return r.take_error();
  if (auto r = pe::parse_debug(image); !r) return r.take_error();
  return true;
}

[[noreturn]] void check_file(const std::string& path, int fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  auto refused = [&](const char* stage, const Error& e) {
    say(fd, fmt::format("refused {} {}", stage, one_line(e.to_string())));
    ::_exit(0);
  };
  // A file that is not a PE image at all (empty, or no MZ) is not a verdict on pemap: counted, as the other
  // commands count what a directory walk meets.
  auto unreadable = [&](const Error& e) {
    if (not_a_pe_image(e)) say(fd, "not-pe"), ::_exit(0);
    refused("parse", e);
  };
  auto file = MappedFile::open(path);
  if (!file) unreadable(file.error());
  auto image = pe::Image::parse(file->bytes());
  if (!image) unreadable(image.error());
  // A table the parser refuses is a finding about that table; the loader decides for itself what it needs.
  if (auto tables = parse_stage(*image); !tables) refused("parse", tables.error());
  say(fd, "ok parse");

  {
    auto section = win::ImageSection::create(path);
    if (!section) refused("map", section.error());
    auto view = win::ImageView::map(*section);
    if (!view) refused("map", view.error());
    say(fd, "ok map");
  }  // unmapped: the load may want the same base

  ldr::LoadOptions options;
  options.allow_missing = true;
  options.bind_delay = true;
  ldr::Process process(std::move(options));
  const bool dll = image->file_header().Characteristics & pe::file_flag::dll;
  auto loaded = dll ? process.load_library(fs::absolute(path).string()) : process.load_executable(path);
  if (!loaded) refused("load", loaded.error());
  say(fd, "ok load");
  ::_exit(0);
}

// ---- the parent ----

struct Verdict {
  std::string file;
  std::string kind;  ///< "ok", "refused", "crash", "timeout"
  std::string stage;
  std::string reason;
  double seconds = 0;
  long peak_rss_kb = 0;
};

struct Running {
  pid_t pid = -1;
  int fd = -1;
  Clock::time_point started;
  std::string output;
  Verdict verdict;
};

Verdict finish(Running& r, int status, const rusage& usage, bool timed_out) {
  Verdict v = std::move(r.verdict);
  v.seconds = std::chrono::duration<double>(Clock::now() - r.started).count();
  v.peak_rss_kb = usage.ru_maxrss;
  std::vector<std::string> lines;
  for (size_t at = 0; at < r.output.size();) {
    const size_t end = r.output.find('\n', at);
    if (end == std::string::npos) break;
    lines.push_back(r.output.substr(at, end - at));
    at = end + 1;
  }
  const size_t done = static_cast<size_t>(
      std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("ok ", 0) == 0; }));
  const char* next = done < 3 ? kStages[done] : "";
  if (!lines.empty() && lines.back() == "not-pe" && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    v.kind = "not PE";
    return v;
  }
  if (timed_out) {
    v.kind = "timeout";
    v.stage = next;
    return v;
  }
  if (!lines.empty() && lines.back().rfind("refused ", 0) == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    const std::string rest = lines.back().substr(8);
    const size_t space = rest.find(' ');
    v.kind = "refused";
    v.stage = rest.substr(0, space);
    v.reason = space == std::string::npos ? "" : rest.substr(space + 1);
    return v;
  }
  if (done == 3 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    v.kind = "ok";
    return v;
  }
  v.kind = "crash";
  v.stage = next;
  v.reason = WIFSIGNALED(status) ? fmt::format("signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)))
                                 : fmt::format("exit status {}", WEXITSTATUS(status));
  return v;
}

std::optional<Running> start(const std::string& path) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return std::nullopt;
  std::cout.flush();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(p[0]);
    ::close(p[1]);
    return std::nullopt;
  }
  if (pid == 0) {
    ::close(p[0]);
    check_file(path, p[1]);
  }
  ::close(p[1]);
  Running r;
  r.pid = pid;
  r.fd = p[0];
  r.started = Clock::now();
  r.verdict.file = path;
  return r;
}

// Every entry under the directories that is not a directory, sorted: regular files, and anything else a hostile
// corpus may hold (a FIFO shows up as a timeout, a dangling link as a refusal).
Result<std::vector<std::string>> files_of(const std::vector<std::string>& dirs) {
  std::vector<std::string> out;
  for (const auto& d : dirs) {
    std::error_code ec;
    if (!fs::is_directory(d, ec))
      return make_error(Status::io_error, "verify --corpus", Location{}, fmt::format("{} is not a directory", d));
    const size_t before = out.size();
    for (auto it = fs::recursive_directory_iterator(d, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (!it->is_directory(ec)) out.push_back(it->path().string());
    if (ec) return make_error(Status::io_error, "verify --corpus", Location{}, fmt::format("{}: {}", d, ec.message()));
    if (out.size() == before)
      return make_error(Status::io_error, "verify --corpus", Location{}, fmt::format("{}: no files", d));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

int run_verify_corpus(const CorpusOptions& opts) {
  auto files = files_of(opts.dirs);
  if (!files) {
    std::cerr << "pemap verify: " << files.error().message << "\n";
    return exit_unusable;
  }
  const unsigned jobs = std::max(1u, opts.jobs ? opts.jobs : std::thread::hardware_concurrency());
  std::vector<Verdict> verdicts;
  std::vector<Running> running;
  size_t next = 0;
  while (next < files->size() || !running.empty()) {
    while (running.size() < jobs && next < files->size()) {
      auto r = start((*files)[next]);
      if (!r) {
        verdicts.push_back({(*files)[next], "crash", "parse", "pemap could not start a child process"});
      } else {
        running.push_back(std::move(*r));
      }
      ++next;
    }
    std::vector<pollfd> fds;
    for (const auto& r : running) fds.push_back({r.fd, POLLIN, 0});
    ::poll(fds.data(), fds.size(), 100);
    for (size_t i = running.size(); i-- > 0;) {
      Running& r = running[i];
      bool eof = false;
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        char buf[4096];
        const ssize_t n = ::read(r.fd, buf, sizeof buf);
        if (n > 0)
          r.output.append(buf, static_cast<size_t>(n));
        else
          eof = true;
      }
      const bool late = Clock::now() - r.started > std::chrono::seconds(opts.timeout_seconds);
      if (!eof && !late) continue;
      if (late && !eof) ::kill(r.pid, SIGKILL);
      int status = 0;
      rusage usage{};
      ::wait4(r.pid, &status, 0, &usage);
      ::close(r.fd);
      verdicts.push_back(finish(r, status, usage, late && !eof));
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  const auto not_pe =
      std::partition(verdicts.begin(), verdicts.end(), [](const Verdict& v) { return v.kind != "not PE"; });
  const size_t skipped = static_cast<size_t>(verdicts.end() - not_pe);
  verdicts.erase(not_pe, verdicts.end());
  std::sort(verdicts.begin(), verdicts.end(), [](const Verdict& a, const Verdict& b) { return a.file < b.file; });

  std::map<std::string, size_t> by_kind;
  std::map<std::string, size_t> refused_at;
  for (const auto& v : verdicts) {
    ++by_kind[v.kind];
    if (v.kind == "refused") ++refused_at[v.stage];
  }
  const bool bad = by_kind["crash"] + by_kind["timeout"] > 0;
  if (opts.json) {
    // --jsonl: a line per file, no totals (a pipeline counts them).
    JsonDocuments docs(std::cout, json_style(opts.jsonl), JsonDocuments::Shape::files);
    for (const auto& v : verdicts) {
      Printer& p = docs.begin(printable(v.file));
      p.field("verdict", v.kind);
      p.field("stage", v.stage);
      p.field("reason", v.reason);
      p.field("seconds", v.seconds);
      p.field("peak_rss_kb", v.peak_rss_kb);
      docs.end();
    }
    docs.finish([&](Printer& p) {
      for (const char* kind : {"ok", "refused", "crash", "timeout"}) p.field(kind, by_kind[kind]);
      p.field("not_pe", skipped);
    });
    return bad ? exit_findings : exit_ok;
  }
  Table t({{"file"},
           {"verdict"},
           {"stage"},
           {"seconds", Table::Align::right},
           {"peak RSS kB", Table::Align::right},
           {"reason"}});
  for (const auto& v : verdicts)
    t.add({printable(v.file), v.kind, v.stage, fmt::format("{:.2f}", v.seconds), std::to_string(v.peak_rss_kb),
           v.reason});
  std::cout << t.render();
  Table summary({{"verdict"}, {"files", Table::Align::right}, {"meaning"}});
  summary.add({"ok", std::to_string(by_kind["ok"]), "parsed, mapped as SEC_IMAGE and loaded"});
  for (const char* stage : kStages)
    summary.add({fmt::format("refused at {}", stage), std::to_string(refused_at[stage]),
                 "a clean refusal with its reason (the status Windows would give)"});
  summary.add({"crash", std::to_string(by_kind["crash"]), "the child died: a bug"});
  summary.add({"timeout", std::to_string(by_kind["timeout"]),
               fmt::format("no answer within {} s: a bug (or not a file)", opts.timeout_seconds)});
  std::cout << fmt::format(
                   "\n{} files in {}{}\n", verdicts.size(), fmt::join(opts.dirs, ", "),
                   skipped ? fmt::format(", and {} {} (empty, or no MZ)", skipped,
                                         skipped == 1 ? "file that is not a PE image" : "files that are not PE images")
                           : "")
            << summary.render();
  return bad ? exit_findings : exit_ok;
}

}  // namespace pemap::inspect
