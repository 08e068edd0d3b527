/* unwind.dll (ARM64): functions whose prologs need each kind of ARM64 unwind data clang writes. Packed records
 * (saved integer registers, a frame); .xdata records with a packed epilog, with an epilog scope, with a large
 * stack allocation (alloc_l), with saved d registers, and with an exception handler (X). Only their unwind data
 * matters: nothing runs them. */
typedef long (*fn)(long);
typedef double (*dfn)(double);
fn ext;
dfn dext;

void __chkstk(void) {}
int __C_specific_handler(void *record, void *frame, void *context, void *dispatch) { return 1; }

__declspec(dllexport) long keep(long a, long b, long c, long d, long e) {
  long x = ext(a), y = ext(b), z = ext(c), w = ext(d), v = ext(e);
  return x * a + y * b + z * c + w * d + v * e + ext(x + y + z + w + v);
}

__declspec(dllexport) double floats(double a, double b, double c) {
  double x = dext(a), y = dext(b), z = dext(c);
  return x * a + y * b + z * c + dext(x + y + z);
}

__declspec(dllexport) long big(long n) {
  volatile char buf[70000];
  buf[n] = 1;
  return ext(buf[n / 2]);
}

__declspec(dllexport) long mid(long n) {
  volatile char buf[2000];
  buf[n] = 1;
  long a = ext(buf[n / 2]);
  return a + ext(a) + n;
}

__declspec(dllexport) long small(long n) { return ext(n) + 1; }

__declspec(dllexport) long twoexits(long n) {
  if (n > 10) {
    long a = ext(n);
    return a + ext(a) * n;
  }
  long b = ext(n * 2);
  return ext(b) - n;
}

__declspec(dllexport) long guarded(long n) {
  long r = 0;
  __try {
    r = ext(n) + ext(n + 1);
  } __except (1) {
    r = -1;
  }
  return r + ext(r);
}
