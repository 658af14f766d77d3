double poly3(double x) { return ((2.5 * x - 1.25) * x + 0.5) * x - 3.0; }
float lerp(float a, float b, float t) { return a + (b - a) * t; }
double mean(const double *a, int n) { if (n <= 0) return 0.0; double s = 0; for (int i = 0; i < n; i++) s += a[i]; return s / n; }
double dmax(double a, double b) { return a > b ? a : b; }
int fcompare(double a, double b) { if (a < b) return -1; if (a > b) return 1; if (a == b) return 0; return 2; }
float fsum(const float *a, int n) { float s = 0.0f; for (int i = 0; i < n; i++) s += a[i]; return s; }
double to_double(int x, float f) { return (double)x + (double)f; }
int dtoi_clamped(double d) { if (!(d > -1e9 && d < 1e9)) return 0; return (int)d; }
void saxpy(float *y, const float *x, float a, int n) { for (int i = 0; i < n; i++) y[i] = a * x[i] + y[i]; }
double horner(const double *c, int n, double x) { double r = 0; for (int i = n - 1; i >= 0; i--) r = r * x + c[i]; return r; }
long round_half_away(double d) { if (!(d > -1e15 && d < 1e15)) return 0; return (long)(d < 0 ? d - 0.5 : d + 0.5); }
float many_float_args(float a, float b, float c, float d, float e, float f, float g, float h, float i, float j) { return a - b + c - d + e - f + g - h + i * j; }
