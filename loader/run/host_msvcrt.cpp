// msvcrt.dll's part of the host table: the C runtime a mingw-w64 program starts with (__getmainargs, _initterm,
// _onexit, exit), its stdio on the host's streams, its printf (host_printf.cpp), strings, memory, errno and locale.
// Each function is called by Windows x64 code, so each is ms_abi; x64 msvcrt's `long` is 32 bits, wchar_t 16.
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <new>
#include <string>
#include <vector>

#include "run/host_parts.hpp"
#include "run/host_printf.hpp"
#include "run/sandbox.hpp"

extern char** environ;

namespace pemap::run {

namespace {

#define MS PEMAP_MS_ABI

using MsVoidFn = void(PEMAP_MS_ABI*)();
using MsIntFn = int32_t(PEMAP_MS_ABI*)();
using MsSignalFn = void(PEMAP_MS_ABI*)(int32_t);

// msvcrt's errno numbers: POSIX's for 1..34 (15 and 26 unused), its own above.
constexpr int kEinval = 22, kEnomem = 12, kEilseq = 42;
thread_local int32_t t_errno = 0;

int32_t msvcrt_errno(int e) {
  if (e >= 1 && e <= 34) return e;
  switch (e) {
    case EDEADLK:
      return 36;
    case ENAMETOOLONG:
      return 38;
    case ENOLCK:
      return 39;
    case ENOSYS:
      return 40;
    case ENOTEMPTY:
      return 41;
    case EILSEQ:
      return kEilseq;
    default:
      return kEinval;
  }
}

// ---- the command line and the environment ----

struct CommandLine {
  std::vector<std::string> arguments;
  std::vector<char*> argv;  // into arguments, NULL-terminated
  std::string line;         // _acmdln
  std::vector<std::string> environment;
  std::vector<char*> envp;
};
CommandLine g_command_line;
char g_empty_command_line[1] = "";
char* g_acmdln = g_empty_command_line;  // data import: msvcrt's char* _acmdln
char** g_initenv = nullptr;             // data import: char** __initenv
int32_t g_fmode = 0;                    // data import: _fmode (0: text mode, which pemap does not translate)
int32_t g_commode = 0;                  // data import: _commode
int32_t g_app_type = 0;
uint64_t g_user_matherr = 0;

// One argument as CommandLineToArgvW reads it back: quoted when it has a space, tab or quote (or is empty),
// backslashes doubled before a quote.
void append_quoted(std::string& line, const std::string& arg) {
  if (!arg.empty() && arg.find_first_of(" \t\"") == std::string::npos) {
    line += arg;
    return;
  }
  line += '"';
  size_t backslashes = 0;
  for (char c : arg) {
    if (c == '\\') {
      ++backslashes;
      continue;
    }
    line.append(c == '"' ? 2 * backslashes + 1 : backslashes, '\\');
    backslashes = 0;
    line += c;
  }
  line.append(2 * backslashes, '\\');
  line += '"';
}

// ---- stdio: msvcrt's FILE array, the first three entries on the host's streams ----

struct MsvcrtFile {  // struct _iobuf of x64 msvcrt: 48 bytes
  uint64_t ptr;
  int32_t cnt, pad;
  uint64_t base;
  int32_t flag, file, charbuf, bufsiz;
  uint64_t tmpfname;
};
static_assert(sizeof(MsvcrtFile) == 48);
constexpr int32_t kIoRead = 0x1, kIoWrite = 0x2;
// _IOB_ENTRIES: mingw's _lock_file takes a FILE* inside these 20 as msvcrt's own and locks it with _lock(16 + i).
MsvcrtFile g_iob[20] = {{.flag = kIoRead, .file = 0}, {.flag = kIoWrite, .file = 1}, {.flag = kIoWrite, .file = 2}};

std::FILE* host_stream(const void* file) {
  const auto at = reinterpret_cast<uintptr_t>(file), first = reinterpret_cast<uintptr_t>(&g_iob[0]);
  if (at < first || at >= first + sizeof g_iob || (at - first) % sizeof(MsvcrtFile) != 0) return nullptr;
  switch ((at - first) / sizeof(MsvcrtFile)) {
    case 0:
      return stdin;
    case 1:
      return stdout;
    case 2:
      return stderr;
    default:
      return nullptr;
  }
}

int32_t fail(int32_t error, int32_t result) {
  t_errno = error;
  return result;
}

int32_t write_formatted(std::FILE* host, const char* format, MsArgs& args) {
  if (!host || !format) return fail(kEinval, -1);
  std::string out;
  int error = 0;
  try {
    error = format_msvcrt(out, format, args);
  } catch (const std::bad_alloc&) {
    return fail(kEnomem, -1);
  }
  if (!out.empty() && std::fwrite(out.data(), 1, out.size(), host) != out.size()) return fail(msvcrt_errno(errno), -1);
  if (error != 0) return fail(error, -1);
  return out.size() > INT32_MAX ? INT32_MAX : static_cast<int32_t>(out.size());
}

// _snprintf's contract: the text and a NUL when it fits, the text without a NUL when it fills `count` exactly
// (returns its length), `count` bytes and -1 when it is longer. A NULL buffer with count 0 asks for the length.
int32_t write_formatted_to(char* buffer, uint64_t count, bool bounded, const char* format, MsArgs& args) {
  if (!format || (!buffer && (!bounded || count != 0))) return fail(kEinval, -1);
  std::string out;
  int error = 0;
  try {
    error = format_msvcrt(out, format, args);
  } catch (const std::bad_alloc&) {
    return fail(kEnomem, -1);
  }
  if (out.size() > INT32_MAX) return fail(kEinval, -1);
  const auto length = static_cast<int32_t>(out.size());
  if (!buffer) return error != 0 ? fail(error, -1) : length;
  if (!bounded || out.size() < count) {
    std::memcpy(buffer, out.data(), out.size());
    buffer[out.size()] = '\0';
  } else {
    std::memcpy(buffer, out.data(), count);
    if (out.size() > count) return -1;
  }
  return error != 0 ? fail(error, -1) : length;
}

MS MsvcrtFile* host___iob_func() { return g_iob; }
MS int32_t host_fputc(int32_t c, void* file) {
  std::FILE* host = host_stream(file);
  if (!host) return fail(kEinval, EOF);
  if (std::fputc(c, host) == EOF) return fail(msvcrt_errno(errno), EOF);
  return static_cast<unsigned char>(c);
}
MS int32_t host_putchar(int32_t c) { return host_fputc(c, &g_iob[1]); }
MS uint64_t host_fwrite(const void* data, uint64_t size, uint64_t count, void* file) {
  if (size == 0 || count == 0) return 0;
  std::FILE* host = host_stream(file);
  if (!host || !data || count > UINT64_MAX / size) return static_cast<uint64_t>(fail(kEinval, 0));
  return std::fwrite(data, size, count, host);
}
MS int32_t host_fputs(const char* s, void* file) {
  std::FILE* host = host_stream(file);
  if (!host || !s) return fail(kEinval, EOF);
  return std::fputs(s, host) == EOF ? fail(msvcrt_errno(errno), EOF) : 0;
}
MS int32_t host_puts(const char* s) {
  if (!s) return fail(kEinval, EOF);
  return std::fputs(s, stdout) == EOF || std::fputc('\n', stdout) == EOF ? fail(msvcrt_errno(errno), EOF) : 0;
}
MS int32_t host_fflush(void* file) {
  if (!file) return std::fflush(nullptr) == 0 ? 0 : EOF;
  std::FILE* host = host_stream(file);
  if (!host) return fail(kEinval, EOF);
  return std::fflush(host) == 0 ? 0 : fail(msvcrt_errno(errno), EOF);
}

// ---- printf: the variadic ones spill RCX, RDX, R8 and R9 to the shadow space, so all arguments are slots ----

MS int32_t host_printf(const char* format, ...) {
  __builtin_ms_va_list ap;
  __builtin_ms_va_start(ap, format);
  MsArgs args(ap);
  const int32_t r = write_formatted(stdout, format, args);
  __builtin_ms_va_end(ap);
  return r;
}
MS int32_t host_fprintf(void* file, const char* format, ...) {
  __builtin_ms_va_list ap;
  __builtin_ms_va_start(ap, format);
  MsArgs args(ap);
  const int32_t r = write_formatted(host_stream(file), format, args);
  __builtin_ms_va_end(ap);
  return r;
}
MS int32_t host_sprintf(char* buffer, const char* format, ...) {
  __builtin_ms_va_list ap;
  __builtin_ms_va_start(ap, format);
  MsArgs args(ap);
  const int32_t r = write_formatted_to(buffer, 0, false, format, args);
  __builtin_ms_va_end(ap);
  return r;
}
MS int32_t host__snprintf(char* buffer, uint64_t count, const char* format, ...) {
  __builtin_ms_va_list ap;
  __builtin_ms_va_start(ap, format);
  MsArgs args(ap);
  const int32_t r = write_formatted_to(buffer, count, true, format, args);
  __builtin_ms_va_end(ap);
  return r;
}
// The v- forms: a Microsoft va_list is a pointer to the slots.
MS int32_t host_vprintf(const char* format, const void* va) {
  MsArgs args(va);
  return write_formatted(stdout, format, args);
}
MS int32_t host_vfprintf(void* file, const char* format, const void* va) {
  MsArgs args(va);
  return write_formatted(host_stream(file), format, args);
}
MS int32_t host_vsprintf(char* buffer, const char* format, const void* va) {
  MsArgs args(va);
  return write_formatted_to(buffer, 0, false, format, args);
}
MS int32_t host__vsnprintf(char* buffer, uint64_t count, const char* format, const void* va) {
  MsArgs args(va);
  return write_formatted_to(buffer, count, true, format, args);
}
MS int32_t host__vscprintf(const char* format, const void* va) {
  MsArgs args(va);
  return write_formatted_to(nullptr, 0, true, format, args);
}

// ---- start-up and exit ----

std::vector<uint64_t> g_onexit;  // _onexit/atexit functions, in registration order
bool g_termination_done = false;

void run_onexit() {
  g_termination_done = true;
  // Last registered first; one registered while these run goes first in turn.
  while (!g_onexit.empty()) {
    const uint64_t f = g_onexit.back();
    g_onexit.pop_back();
    reinterpret_cast<MsVoidFn>(f)();
  }
}

MS int32_t host___getmainargs(int32_t* argc, char*** argv, char*** envp, int32_t, void*) {
  if (argc) *argc = static_cast<int32_t>(g_command_line.arguments.size());
  if (argv) *argv = g_command_line.argv.data();
  if (envp) *envp = g_command_line.envp.data();
  return 0;
}
MS void host___set_app_type(int32_t type) { g_app_type = type; }
MS void host___setusermatherr(uint64_t handler) { g_user_matherr = handler; }
MS void host__initterm(const uint64_t* begin, const uint64_t* end) {
  for (const uint64_t* p = begin; p && p < end; ++p) {
    uint64_t f = 0;
    std::memcpy(&f, p, sizeof f);
    if (f) reinterpret_cast<MsVoidFn>(f)();
  }
}
MS int32_t host__initterm_e(const uint64_t* begin, const uint64_t* end) {
  for (const uint64_t* p = begin; p && p < end; ++p) {
    uint64_t f = 0;
    std::memcpy(&f, p, sizeof f);
    if (!f) continue;
    if (const int32_t r = reinterpret_cast<MsIntFn>(f)(); r != 0) return r;
  }
  return 0;
}
MS uint64_t host__onexit(uint64_t f) {
  if (!f) return 0;
  try {
    g_onexit.push_back(f);
  } catch (const std::bad_alloc&) {
    return 0;
  }
  return f;
}
MS int32_t host_atexit(uint64_t f) { return host__onexit(f) ? 0 : -1; }
MS void host__cexit() {
  run_onexit();
  std::fflush(nullptr);
}
MS void host__c_exit() {
  g_termination_done = true;
  std::fflush(nullptr);
}
MS void host_exit(int32_t code) {
  run_onexit();
  exit_process(static_cast<uint32_t>(code));
}
MS void host__exit(int32_t code) {
  g_termination_done = true;
  exit_process(static_cast<uint32_t>(code));
}
MS void host__amsg_exit(int32_t number) {
  std::fprintf(stderr, "\nruntime error R6%03d\n", number);
  g_termination_done = true;
  exit_process(255);
}

// ---- signals: recorded, never raised by pemap (a fault stops the program in pemap's own handler) ----

constexpr int32_t kSigAbrt = 22, kSigAbrtCompat = 6;
uint64_t g_signal_handlers[23] = {};
bool msvcrt_signal(int32_t sig) {
  switch (sig) {
    case 2:   // SIGINT
    case 4:   // SIGILL
    case 6:   // SIGABRT_COMPAT
    case 8:   // SIGFPE
    case 11:  // SIGSEGV
    case 15:  // SIGTERM
    case 21:  // SIGBREAK
    case 22:  // SIGABRT
      return true;
    default:
      return false;
  }
}
MS uint64_t host_signal(int32_t sig, uint64_t handler) {
  if (!msvcrt_signal(sig)) return static_cast<uint64_t>(fail(kEinval, -1));  // SIG_ERR
  if (sig == kSigAbrtCompat) sig = kSigAbrt;
  const uint64_t previous = g_signal_handlers[sig];
  g_signal_handlers[sig] = handler;
  return previous;
}
MS void host_abort() {
  // raise(SIGABRT): a handler the program set runs first (reset to SIG_DFL, as msvcrt does); SIG_DFL (0), SIG_IGN
  // (1) and the other special values (up to 4) do not.
  if (const uint64_t handler = g_signal_handlers[kSigAbrt]; handler > 4) {
    g_signal_handlers[kSigAbrt] = 0;
    reinterpret_cast<MsSignalFn>(handler)(kSigAbrt);
  }
  std::fputs(
      "\nThis application has requested the Runtime to terminate it in an unusual way.\n"
      "Please contact the application's support team for more information.\n",
      stderr);
  g_termination_done = true;
  exit_process(3);
}
// Called by the OS's exception dispatcher only, which pemap does not have.
MS int32_t host___C_specific_handler(void*, void*, void*, void*) { return 1; }  // ExceptionContinueSearch

// ---- locks: _lock(n) and _unlock(n), msvcrt's internal locks (16 + i for the stream g_iob[i]) ----

struct CrtLock {
  std::atomic<uint64_t> owner{0};
  int32_t depth = 0;
};
CrtLock g_locks[64];
uint64_t this_thread_key() {
  thread_local const char key = 0;
  return reinterpret_cast<uint64_t>(&key);
}
MS void host__lock(int32_t n) {
  if (n < 0 || n >= 64) return;
  CrtLock& l = g_locks[n];
  const uint64_t me = this_thread_key();
  if (l.owner.load(std::memory_order_acquire) != me) {
    uint64_t free = 0;
    while (!l.owner.compare_exchange_weak(free, me, std::memory_order_acquire)) {
      free = 0;
      ::sched_yield();
    }
  }
  ++l.depth;
}
MS void host__unlock(int32_t n) {
  if (n < 0 || n >= 64) return;
  CrtLock& l = g_locks[n];
  if (l.owner.load(std::memory_order_relaxed) != this_thread_key()) return;
  if (--l.depth == 0) l.owner.store(0, std::memory_order_release);
}

// ---- errno, strerror, locale ----

MS int32_t* host__errno() { return &t_errno; }

// msvcrt.dll's _sys_errlist, 0..42; above that "Unknown error".
constexpr const char* kErrorMessages[] = {"No error",
                                          "Operation not permitted",
                                          "No such file or directory",
                                          "No such process",
                                          "Interrupted function call",
                                          "Input/output error",
                                          "No such device or address",
                                          "Arg list too long",
                                          "Exec format error",
                                          "Bad file descriptor",
                                          "No child processes",
                                          "Resource temporarily unavailable",
                                          "Not enough space",
                                          "Permission denied",
                                          "Bad address",
                                          "Unknown error",
                                          "Resource device",
                                          "File exists",
                                          "Improper link",
                                          "No such device",
                                          "Not a directory",
                                          "Is a directory",
                                          "Invalid argument",
                                          "Too many open files in system",
                                          "Too many open files",
                                          "Inappropriate I/O control operation",
                                          "Unknown error",
                                          "File too large",
                                          "No space left on device",
                                          "Invalid seek",
                                          "Read-only file system",
                                          "Too many links",
                                          "Broken pipe",
                                          "Domain error",
                                          "Result too large",
                                          "Unknown error",
                                          "Resource deadlock avoided",
                                          "Unknown error",
                                          "Filename too long",
                                          "No locks available",
                                          "Function not implemented",
                                          "Directory not empty",
                                          "Illegal byte sequence"};
MS char* host_strerror(int32_t error) {
  thread_local char buffer[96];  // msvcrt's per-thread buffer: the caller may write into what it gets
  const bool known = error >= 0 && static_cast<size_t>(error) < std::size(kErrorMessages);
  std::snprintf(buffer, sizeof buffer, "%s", known ? kErrorMessages[error] : "Unknown error");
  return buffer;
}

struct MsvcrtLconv {  // struct lconv of msvcrt, the char* members, then the wide copies newer msvcrt.dll appends
  const char *decimal_point, *thousands_sep, *grouping, *int_curr_symbol, *currency_symbol, *mon_decimal_point,
      *mon_thousands_sep, *mon_grouping, *positive_sign, *negative_sign;
  char int_frac_digits, frac_digits, p_cs_precedes, p_sep_by_space, n_cs_precedes, n_sep_by_space, p_sign_posn,
      n_sign_posn;
  const char16_t *w_decimal_point, *w_thousands_sep, *w_int_curr_symbol, *w_currency_symbol, *w_mon_decimal_point,
      *w_mon_thousands_sep, *w_positive_sign, *w_negative_sign;
};
const MsvcrtLconv g_c_locale = {".",  "",       "",       "",       "",       "",       "",       "",       "",
                                "",   CHAR_MAX, CHAR_MAX, CHAR_MAX, CHAR_MAX, CHAR_MAX, CHAR_MAX, CHAR_MAX, CHAR_MAX,
                                u".", u"",      u"",      u"",      u"",      u"",      u"",      u""};
MS const MsvcrtLconv* host_localeconv() { return &g_c_locale; }
MS int32_t host____lc_codepage_func() { return 0; }  // the C locale: _CLOCALECP, CP_ACP
MS int32_t host____mb_cur_max_func() { return 1; }

// ---- memory and strings ----

// A failed allocation returns NULL as msvcrt's does; the sandbox counts those its memory limit refused.
void* counted(void* p, uint64_t size) {
  if (!p && size != 0) note_failed_allocation(size);
  return p;
}
MS void* host_malloc(uint64_t n) { return counted(std::malloc(n), n); }
MS void* host_calloc(uint64_t n, uint64_t size) { return counted(std::calloc(n, size), n * size); }
MS void* host_realloc(void* p, uint64_t n) { return counted(std::realloc(p, n), n); }
MS void host_free(void* p) { std::free(p); }
MS void* host_memcpy(void* d, const void* s, uint64_t n) { return std::memmove(d, s, n); }
MS void* host_memmove(void* d, const void* s, uint64_t n) { return std::memmove(d, s, n); }
MS void* host_memset(void* d, int32_t c, uint64_t n) { return std::memset(d, c, n); }
MS int32_t host_memcmp(const void* a, const void* b, uint64_t n) { return std::memcmp(a, b, n); }
MS uint64_t host_strlen(const char* s) { return std::strlen(s); }
MS int32_t host_strcmp(const char* a, const char* b) { return std::strcmp(a, b); }
MS int32_t host_strncmp(const char* a, const char* b, uint64_t n) { return std::strncmp(a, b, n); }
MS char* host_strchr(const char* s, int32_t c) { return const_cast<char*>(std::strchr(s, c)); }
MS char* host_strrchr(const char* s, int32_t c) { return const_cast<char*>(std::strrchr(s, c)); }
MS char* host_strstr(const char* s, const char* what) { return const_cast<char*>(std::strstr(s, what)); }
MS char* host_strcpy(char* d, const char* s) { return std::strcpy(d, s); }
MS char* host_strncpy(char* d, const char* s, uint64_t n) { return std::strncpy(d, s, n); }
MS char* host_strcat(char* d, const char* s) { return std::strcat(d, s); }
MS uint64_t host_wcslen(const char16_t* s) {
  uint64_t n = 0;
  for (;; ++n) {
    char16_t c = 0;
    std::memcpy(&c, s + n, sizeof c);
    if (c == 0) return n;
  }
}

#undef MS

}  // namespace

void set_host_command_line(const std::vector<std::string>& arguments) {
  CommandLine& c = g_command_line;
  c.arguments = arguments;
  c.argv.clear();
  c.line.clear();
  for (auto& a : c.arguments) {
    c.argv.push_back(a.data());
    if (!c.line.empty()) c.line += ' ';
    append_quoted(c.line, a);
  }
  c.argv.push_back(nullptr);
  c.environment.clear();
  c.envp.clear();
  for (char** e = environ; e && *e; ++e) c.environment.emplace_back(*e);
  for (auto& e : c.environment) c.envp.push_back(e.data());
  c.envp.push_back(nullptr);
  g_acmdln = c.line.data();
  g_initenv = c.envp.data();
}

const char* host_command_line() { return g_acmdln; }

void msvcrt_process_detach() {
  if (!g_termination_done) run_onexit();
  std::fflush(nullptr);
}

std::vector<HostFunction> msvcrt_host_functions() {
  const char* m = "msvcrt.dll";
  return {
      {m, "__C_specific_handler", host_fn(host___C_specific_handler),
       "ExceptionContinueSearch; never called: pemap has no SEH, so __try/__except handlers never run"},
      {m, "___lc_codepage_func", host_fn(host____lc_codepage_func), "0: the C locale's code page (CP_ACP)"},
      {m, "___mb_cur_max_func", host_fn(host____mb_cur_max_func), "1: the C locale"},
      {m, "__getmainargs", host_fn(host___getmainargs),
       "argc, argv (Runtime::set_arguments; the executable's path alone by default) and the host's environment; no "
       "wildcard expansion"},
      {m, "__initenv", &g_initenv, "(data) char**: the host's environment, as __getmainargs gives it", true},
      {m, "__iob_func", host_fn(host___iob_func),
       "msvcrt's FILE array (20 x 48 bytes); entries 0, 1, 2 are the host's stdin, stdout, stderr"},
      {m, "__set_app_type", host_fn(host___set_app_type), "recorded; no effect"},
      {m, "__setusermatherr", host_fn(host___setusermatherr), "recorded; never called"},
      {m, "_acmdln", &g_acmdln, "(data) char*: the command line, as GetCommandLineA gives it", true},
      {m, "_amsg_exit", host_fn(host__amsg_exit),
       "\"runtime error R6nnn\" on stderr (the number, not msvcrt's text), then ExitProcess(255)"},
      {m, "_c_exit", host_fn(host__c_exit), "streams flushed; returns"},
      {m, "_cexit", host_fn(host__cexit), "the _onexit/atexit functions, last first; streams flushed; returns"},
      {m, "_commode", &g_commode, "(data) int: 0", true},
      {m, "_errno", host_fn(host__errno), "this thread's msvcrt errno (msvcrt's numbers: EILSEQ is 42)"},
      {m, "_exit", host_fn(host__exit), "ExitProcess without the _onexit/atexit functions"},
      {m, "_fmode", &g_fmode, "(data) int: 0; streams are binary here (no \\n to \\r\\n)", true},
      {m, "_initterm", host_fn(host__initterm), "calls each non-NULL function pointer in [begin, end)"},
      {m, "_initterm_e", host_fn(host__initterm_e), "_initterm, stopping at the first that returns non-zero"},
      {m, "_lock", host_fn(host__lock), "recursive lock n (0..63; others ignored)"},
      {m, "_onexit", host_fn(host__onexit), "registers the function for exit, _cexit or ExitProcess; returns it"},
      {m, "_snprintf", host_fn(host__snprintf),
       "msvcrt's printf format; no NUL when the text fills the buffer, -1 when it is longer"},
      {m, "_unlock", host_fn(host__unlock), "releases lock n; nothing when this thread does not hold it"},
      {m, "_vscprintf", host_fn(host__vscprintf), "the length vsprintf would write"},
      {m, "_vsnprintf", host_fn(host__vsnprintf), "_snprintf with a va_list"},
      {m, "abort", host_fn(host_abort),
       "the SIGABRT handler if the program set one, msvcrt's message on stderr, then ExitProcess(3) without "
       "atexit functions"},
      {m, "atexit", host_fn(host_atexit), "_onexit; 0"},
      {m, "calloc", host_fn(host_calloc), "calloc"},
      {m, "exit", host_fn(host_exit), "the _onexit/atexit functions, last first, then ExitProcess"},
      {m, "fflush", host_fn(host_fflush), "fflush of the host stream; NULL: every stream"},
      {m, "fprintf", host_fn(host_fprintf),
       "msvcrt's printf format (32-bit long, I64, %S wide, 17 significant digits, 1.#INF00; %a as glibc) on the "
       "host stream; a FILE* other than stdin, stdout, stderr: EINVAL"},
      {m, "fputc", host_fn(host_fputc), "fputc on the host stream"},
      {m, "fputs", host_fn(host_fputs), "fputs on the host stream; 0"},
      {m, "free", host_fn(host_free), "free"},
      {m, "fwrite", host_fn(host_fwrite), "fwrite on the host stream"},
      {m, "localeconv", host_fn(host_localeconv), "the C locale's lconv: decimal point \".\", nothing else"},
      {m, "malloc", host_fn(host_malloc), "malloc"},
      {m, "memcmp", host_fn(host_memcmp), "memcmp"},
      {m, "memcpy", host_fn(host_memcpy), "memmove (overlap is safe)"},
      {m, "memmove", host_fn(host_memmove), "memmove"},
      {m, "memset", host_fn(host_memset), "memset"},
      {m, "printf", host_fn(host_printf), "fprintf to stdout"},
      {m, "putchar", host_fn(host_putchar), "fputc to stdout"},
      {m, "puts", host_fn(host_puts), "the string and a newline on stdout; 0"},
      {m, "realloc", host_fn(host_realloc), "realloc"},
      {m, "signal", host_fn(host_signal),
       "records the handler and returns the previous one; only abort() calls a handler (SIGABRT): pemap's fault "
       "handler stops the program on a fault"},
      {m, "sprintf", host_fn(host_sprintf), "msvcrt's printf format into the buffer, with a NUL"},
      {m, "strcat", host_fn(host_strcat), "strcat"},
      {m, "strchr", host_fn(host_strchr), "strchr"},
      {m, "strcmp", host_fn(host_strcmp), "strcmp"},
      {m, "strcpy", host_fn(host_strcpy), "strcpy"},
      {m, "strerror", host_fn(host_strerror), "msvcrt.dll's message for the number, in a per-thread buffer"},
      {m, "strlen", host_fn(host_strlen), "strlen"},
      {m, "strncmp", host_fn(host_strncmp), "strncmp"},
      {m, "strncpy", host_fn(host_strncpy), "strncpy"},
      {m, "strrchr", host_fn(host_strrchr), "strrchr"},
      {m, "strstr", host_fn(host_strstr), "strstr"},
      {m, "vfprintf", host_fn(host_vfprintf), "fprintf with a va_list (a pointer to 8-byte slots)"},
      {m, "vprintf", host_fn(host_vprintf), "vfprintf to stdout"},
      {m, "vsprintf", host_fn(host_vsprintf), "sprintf with a va_list"},
      {m, "wcslen", host_fn(host_wcslen), "length in 16-bit units"},
  };
}

}  // namespace pemap::run
