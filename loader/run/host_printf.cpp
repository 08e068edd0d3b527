// The msvcrt printf formatter: one pass over the format, one conversion at a time, padded the way msvcrt pads
// (sign or 0x prefix first, then zeros, then the text).
#include "run/host_printf.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace pemap::run {

namespace {

// msvcrt caps a conversion's precision at 512 (MAXPRECISION); pemap also refuses a field wider than this.
constexpr int kMaxPrecision = 512;
constexpr int kMaxWidth = 1 << 20;
// msvcrt's errno values.
constexpr int kEinval = 22, kEilseq = 42;

struct Spec {
  bool left = false, plus = false, space = false, alt = false, zero = false;
  int width = 0;
  int precision = -1;  // -1: the conversion's default
  bool size_short = false, size_long = false, size_64 = false, size_wide = false;
};

void pad(std::string& out, char c, int64_t n) {
  if (n > 0) out.append(static_cast<size_t>(n), c);
}

// Padding, prefix (sign, 0x), zeros, text: msvcrt's order. Zero padding applies to every conversion, strings too.
void emit(std::string& out, const Spec& s, std::string_view prefix, std::string_view text) {
  const int64_t padding = int64_t{s.width} - static_cast<int64_t>(text.size()) - static_cast<int64_t>(prefix.size());
  if (!s.left && !s.zero) pad(out, ' ', padding);
  out.append(prefix);
  if (s.zero && !s.left) pad(out, '0', padding);
  out.append(text);
  if (s.left) pad(out, ' ', padding);
}

std::string_view sign_prefix(const Spec& s, bool negative) {
  if (negative) return "-";
  if (s.plus) return "+";
  if (s.space) return " ";
  return "";
}

// Reads a decimal field, saturating; *f is left on the first non-digit.
int read_number(const char*& f) {
  int64_t n = 0;
  while (*f >= '0' && *f <= '9') {
    n = std::min<int64_t>(n * 10 + (*f - '0'), int64_t{1} << 31);
    ++f;
  }
  return static_cast<int>(std::min<int64_t>(n, INT32_MAX));
}

// A star argument: an int in an 8-byte slot.
int star(MsArgs& args) { return static_cast<int32_t>(static_cast<uint32_t>(args.next())); }

void format_integer(std::string& out, Spec s, char type, MsArgs& args) {
  const uint64_t raw = args.next();
  const bool is_signed = type == 'd' || type == 'i';
  bool negative = false;
  uint64_t number = 0;
  if (s.size_64) {
    number = raw;
  } else if (s.size_short && !s.size_long) {
    number =
        is_signed ? static_cast<uint64_t>(int64_t{static_cast<int16_t>(raw)}) : uint64_t{static_cast<uint16_t>(raw)};
  } else {  // int, and msvcrt's long: 32 bits
    number =
        is_signed ? static_cast<uint64_t>(int64_t{static_cast<int32_t>(raw)}) : uint64_t{static_cast<uint32_t>(raw)};
  }
  if (is_signed && static_cast<int64_t>(number) < 0) {
    negative = true;
    number = 0 - number;
  }
  unsigned radix = 10;
  bool upper = false;
  std::string prefix;
  switch (type) {
    case 'o':
      radix = 8;
      break;
    case 'p':
    case 'X':
      upper = true;
      [[fallthrough]];
    case 'x':
      radix = 16;
      if (s.alt && number != 0) prefix = upper ? "0X" : "0x";  // msvcrt drops the prefix for 0
      break;
    default:
      break;
  }
  int precision = s.precision;
  if (precision < 0) {
    precision = 1;
  } else {
    s.zero = false;  // an explicit precision turns '0' off, as C says
    precision = std::min(precision, kMaxPrecision);
  }
  char digits[kMaxPrecision + 32];
  char* end = digits + sizeof digits;
  char* p = end;
  while (precision-- > 0 || number != 0) {
    const unsigned d = static_cast<unsigned>(number % radix);
    number /= radix;
    *--p = static_cast<char>(d < 10 ? '0' + d : (upper ? 'A' : 'a') + d - 10);
  }
  if (type == 'o' && s.alt && (p == end || *p != '0')) *--p = '0';
  if (is_signed) prefix = sign_prefix(s, negative);
  emit(out, s, prefix, std::string_view(p, static_cast<size_t>(end - p)));
}

// msvcrt's floating-point output (cvt.c): $I10_OUTPUT gives 17 significant digits and a decimal point position,
// or "1#INF", "1#QNAN", "1#SNAN", "1#IND" with the point after the 1; _fptostr rounds that text half up to the
// digits a conversion needs, treating every character as a digit, and pads with zeros. So digits past the 17th
// print as 0, halfway cases round away from zero, and infinity prints as 1.#INF00.
struct Decimal {
  std::string digits;  // the value is 0.digits x 10^point
  int point = 0;
  bool negative = false;
};

Decimal to_decimal(double v) {
  Decimal d;
  const auto bits = std::bit_cast<uint64_t>(v);
  d.negative = (bits >> 63) != 0;
  if (std::isinf(v) || std::isnan(v)) {
    const uint64_t mantissa = bits & ((uint64_t{1} << 52) - 1), quiet = uint64_t{1} << 51;
    d.point = 1;
    if (std::isinf(v))
      d.digits = "1#INF";
    else if (d.negative && mantissa == quiet)
      d.digits = "1#IND";  // the "indefinite" NaN the FPU makes (0.0 / 0.0)
    else
      d.digits = (mantissa & quiet) ? "1#QNAN" : "1#SNAN";
    return d;
  }
  if (v == 0) {  // $I10_OUTPUT's zero has no sign: -0.0 prints as 0
    d.negative = false;
    d.digits = "0";
    return d;
  }
  char text[40];
  std::snprintf(text, sizeof text, "%.16e", std::fabs(v));  // d.dddddddddddddddde[+-]x: 17 digits
  const char* e = std::strchr(text, 'e');
  d.digits.push_back(text[0]);
  d.digits.append(text + 2, 16);
  d.point = std::atoi(e + 1) + 1;
  return d;
}

// _fptostr: `count` characters of the digits (zeros past their end), rounded half up on the next one; a carry out
// of the first digit moves the point.
std::string round_digits(const Decimal& d, int count, int& point) {
  point = d.point;
  std::string buffer = "0";
  for (int i = 0; i < count; ++i) buffer.push_back(static_cast<size_t>(i) < d.digits.size() ? d.digits[i] : '0');
  if (count >= 0 && static_cast<size_t>(count) < d.digits.size() && d.digits[count] >= '5') {
    size_t i = buffer.size() - 1;
    while (buffer[i] == '9') buffer[i--] = '0';
    ++buffer[i];
  }
  if (buffer[0] == '1') {
    ++point;
    return buffer;
  }
  return buffer.substr(1);
}

std::string e_text(const Decimal& d, int precision, bool caps) {
  int point = 0;
  const std::string r = round_digits(d, precision + 1, point);
  std::string text(1, r[0]);
  if (precision > 0) text += '.' + r.substr(1, static_cast<size_t>(precision));
  const int exponent = d.digits[0] != '0' ? point - 1 : 0;
  char tail[16];
  std::snprintf(tail, sizeof tail, "%c%c%03d", caps ? 'E' : 'e', exponent < 0 ? '-' : '+',
                exponent < 0 ? -exponent : exponent);
  return text + tail;
}

std::string f_text(const Decimal& d, int precision) {
  int point = 0;
  const std::string r = round_digits(d, precision + d.point, point);
  std::string text = point <= 0 ? "0" : r.substr(0, static_cast<size_t>(point));
  if (precision > 0) {
    text += '.';
    const int zeros = point < 0 ? std::min(precision, -point) : 0;
    text.append(static_cast<size_t>(zeros), '0');
    text += r.substr(static_cast<size_t>(std::max(point, 0)));
  }
  return text;
}

// _forcdecpt: '#' with precision 0 puts a point after the leading digits.
void force_point(std::string& text) {
  if (text.find('.') != std::string::npos) return;
  size_t i = 0;
  while (i < text.size() && text[i] != 'e' && text[i] != 'E') ++i;
  text.insert(i, 1, '.');
}

// _cropzeros: %g drops trailing zeros of the fraction, and the point when nothing is left of it.
void crop_zeros(std::string& text) {
  const size_t dot = text.find('.');
  if (dot == std::string::npos) return;
  const size_t stop = std::min(text.find_first_of("eE", dot), text.size());
  size_t last = stop;
  while (last > dot + 1 && text[last - 1] == '0') --last;
  if (last == dot + 1) last = dot;
  text.erase(last, stop - last);
}

void format_float(std::string& out, Spec s, char type, MsArgs& args) {
  const double value = args.next_double();
  int precision = s.precision;
  if (precision < 0)
    precision = 6;
  else if (precision == 0 && (type == 'g' || type == 'G'))
    precision = 1;
  precision = std::min(precision, kMaxPrecision);
  std::string text;
  bool negative = false;
  if (type == 'a' || type == 'A') {  // glibc's hexadecimal form
    char spec[16];
    std::snprintf(spec, sizeof spec, "%%%s.%d%c", s.alt ? "#" : "", precision, type);
    const int n = std::snprintf(nullptr, 0, spec, std::fabs(value));
    text.assign(n > 0 ? static_cast<size_t>(n) : 0, '\0');
    if (n > 0) std::snprintf(text.data(), text.size() + 1, spec, std::fabs(value));
    negative = std::signbit(value);
  } else {
    const Decimal d = to_decimal(value);
    negative = d.negative;
    const bool caps = type == 'E' || type == 'G';
    if (type == 'e' || type == 'E') {
      text = e_text(d, precision, caps);
    } else if (type == 'f') {
      text = f_text(d, precision);
    } else {
      // %g: rounded to `precision` significant digits first; the exponent after rounding picks the form.
      Decimal rounded = d;
      rounded.digits = round_digits(d, precision, rounded.point);
      const int magnitude = rounded.point - 1;
      text = magnitude < -4 || magnitude >= precision ? e_text(rounded, precision - 1, caps)
                                                      : f_text(rounded, precision - rounded.point);
      if (!s.alt) crop_zeros(text);
    }
    if (s.alt && precision == 0) force_point(text);
  }
  emit(out, s, sign_prefix(s, negative), text);
}

// The C locale's wctomb: a UTF-16 unit up to U+00FF is that byte; anything above cannot be converted.
bool narrow_char(uint16_t c, char& out) {
  if (c > 0xff) return false;
  out = static_cast<char>(c);
  return true;
}

// A wide string of `length` units: padded by its length in units, converted unit by unit; false at the first unit
// the C locale cannot convert (msvcrt stops there and returns -1).
bool emit_wide(std::string& out, const Spec& s, const uint16_t* text, size_t length) {
  const int64_t padding = int64_t{s.width} - static_cast<int64_t>(length);
  if (!s.left) pad(out, s.zero ? '0' : ' ', padding);
  for (size_t i = 0; i < length; ++i) {
    uint16_t unit = 0;
    std::memcpy(&unit, text + i, sizeof unit);
    char c = 0;
    if (!narrow_char(unit, c)) return false;
    out.push_back(c);
  }
  if (s.left) pad(out, ' ', padding);
  return true;
}

constexpr uint16_t kWideNull[] = {'(', 'n', 'u', 'l', 'l', ')', 0};

bool format_string(std::string& out, const Spec& s, char type, MsArgs& args) {
  const bool wide = type == 'S' ? !s.size_short : (s.size_long || s.size_wide);
  const uint64_t pointer = args.next();
  const size_t limit = s.precision < 0 ? SIZE_MAX : static_cast<size_t>(s.precision);
  if (wide) {
    const auto* text = pointer ? reinterpret_cast<const uint16_t*>(pointer) : kWideNull;
    size_t length = 0;
    for (uint16_t unit = 0; length < limit; ++length) {
      std::memcpy(&unit, text + length, sizeof unit);
      if (unit == 0) break;
    }
    return emit_wide(out, s, text, length);
  }
  const char* text = pointer ? reinterpret_cast<const char*>(pointer) : "(null)";
  size_t length = 0;
  while (length < limit && text[length] != '\0') ++length;
  emit(out, s, "", std::string_view(text, length));
  return true;
}

void format_char(std::string& out, const Spec& s, char type, MsArgs& args) {
  const bool wide = type == 'C' ? !s.size_short : (s.size_long || s.size_wide);
  const uint64_t raw = args.next();
  char c = static_cast<char>(raw & 0xff);
  // A wide character the C locale cannot convert prints nothing, not even its padding (msvcrt's no_output).
  if (wide && !narrow_char(static_cast<uint16_t>(raw), c)) return;
  emit(out, s, "", std::string_view(&c, 1));
}

// %Z: an ANSI_STRING or UNICODE_STRING {USHORT Length; USHORT MaximumLength; PCHAR Buffer at +8}, Length in bytes.
bool format_counted(std::string& out, const Spec& s, MsArgs& args) {
  const uint64_t pointer = args.next();
  uint16_t length = 0;
  uint64_t buffer = 0;
  if (pointer) {
    std::memcpy(&length, reinterpret_cast<const void*>(pointer), sizeof length);
    std::memcpy(&buffer, reinterpret_cast<const unsigned char*>(pointer) + 8, sizeof buffer);
  }
  if (!pointer || !buffer) {
    emit(out, s, "", "(null)");
    return true;
  }
  if (s.size_long || s.size_wide) return emit_wide(out, s, reinterpret_cast<const uint16_t*>(buffer), length / 2u);
  emit(out, s, "", std::string_view(reinterpret_cast<const char*>(buffer), length));
  return true;
}

// Flags, width, precision and size of one conversion, read from just after its '%'. `literal` when msvcrt prints
// the conversion letter as it is (after an 'I' it does not know). Returns kEinval for a width past kMaxWidth, else 0.
int read_spec(const char*& f, MsArgs& args, Spec& s, bool& literal) {
  for (;; ++f) {
    if (*f == '-')
      s.left = true;
    else if (*f == '+')
      s.plus = true;
    else if (*f == ' ')
      s.space = true;
    else if (*f == '#')
      s.alt = true;
    else if (*f == '0')
      s.zero = true;
    else
      break;
  }
  if (*f == '*') {
    const int w = star(args);
    if (w < 0) s.left = true;
    s.width = w == INT32_MIN ? INT32_MAX : (w < 0 ? -w : w);
    ++f;
  } else {
    s.width = read_number(f);
  }
  if (s.width > kMaxWidth) return kEinval;
  if (*f == '.') {
    ++f;
    if (*f == '*') {
      const int p = star(args);
      s.precision = p < 0 ? -1 : p;
      ++f;
    } else {
      s.precision = read_number(f);
    }
  }
  // Sizes: h, l, ll, w, L (long double is double), I (64-bit on Win64), I32, I64.
  for (bool more = true; more;) {
    switch (*f) {
      case 'h':
        s.size_short = true;
        ++f;
        break;
      case 'l':
        ++f;
        if (*f == 'l') {
          s.size_64 = true;
          ++f;
        } else {
          s.size_long = true;
        }
        break;
      case 'w':
        s.size_wide = true;
        ++f;
        break;
      case 'L':
        ++f;
        break;
      case 'I':
        if (f[1] == '6' && f[2] == '4') {
          s.size_64 = true;
          f += 3;
        } else if (f[1] == '3' && f[2] == '2') {
          s.size_64 = false;
          f += 3;
        } else if (f[1] != '\0' && std::string_view("diouxX").find(f[1]) != std::string_view::npos) {
          s.size_64 = true;
          ++f;
        } else {
          literal = true;  // msvcrt prints the 'I' itself and goes on after it
          more = false;
        }
        break;
      default:
        more = false;
    }
  }
  return 0;
}

// One conversion of `type` into `out` (which held `start` bytes before this call's output): 0, or the error msvcrt
// returns.
int convert(std::string& out, Spec s, char type, MsArgs& args, size_t start) {
  switch (type) {
    case 'd':
    case 'i':
    case 'u':
    case 'o':
    case 'x':
    case 'X':
      format_integer(out, s, type, args);
      break;
    case 'p':
      s.precision = 16;  // 2 * sizeof(void*) digits, upper case
      s.size_64 = true;
      format_integer(out, s, type, args);
      break;
    case 'e':
    case 'E':
    case 'f':
    case 'g':
    case 'G':
    case 'a':
    case 'A':
      format_float(out, s, type, args);
      break;
    case 'c':
    case 'C':
      format_char(out, s, type, args);
      break;
    case 's':
    case 'S':
      if (!format_string(out, s, type, args)) return kEilseq;
      break;
    case 'Z':
      if (!format_counted(out, s, args)) return kEilseq;
      break;
    case 'n': {
      const uint64_t pointer = args.next();
      if (pointer == 0) return kEinval;  // msvcrt's invalid-parameter path
      const auto count = static_cast<uint32_t>(out.size() - start);
      if (s.size_short && !s.size_long) {
        const auto c16 = static_cast<uint16_t>(count);
        std::memcpy(reinterpret_cast<void*>(pointer), &c16, sizeof c16);
      } else {
        std::memcpy(reinterpret_cast<void*>(pointer), &count, sizeof count);
      }
      break;
    }
    default:
      out.push_back(type);  // "%%", and what msvcrt does not know ("%zu" prints "zu")
  }
  return 0;
}

}  // namespace

int format_msvcrt(std::string& out, const char* f, MsArgs& args) {
  const size_t start = out.size();
  while (*f != '\0') {
    if (*f != '%') {
      out.push_back(*f++);
      continue;
    }
    ++f;
    Spec s;
    bool literal = false;
    if (const int e = read_spec(f, args, s, literal)) return e;
    const char type = *f;
    if (type == '\0') break;
    ++f;
    if (literal) {
      out.push_back(type);
      continue;
    }
    if (const int e = convert(out, s, type, args, start)) return e;
  }
  return 0;
}

}  // namespace pemap::run
