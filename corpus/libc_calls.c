#include <stdlib.h>
#include <string.h>
char *dup_string(const char *s) { size_t n = strlen(s); char *p = malloc(n + 1); if (!p) return 0; memcpy(p, s, n + 1); return p; }
int *make_range(int n) { if (n < 0 || n > 1000) return 0; int *p = calloc((size_t)n + 1, sizeof(int)); if (!p) return 0; for (int i = 0; i < n; i++) p[i] = i * i; return p; }
int compare_prefix(const char *a, const char *b, size_t n) { int r = strncmp(a, b, n); return (r > 0) - (r < 0); }
void fill_pattern(unsigned char *dst, size_t len, int c) { memset(dst, c, len); if (len > 2) dst[len / 2] = 0; }
int total_len(const char *a, const char *b) { return (int)(strlen(a) + strlen(b)); }
long abs_diff_sum(const int *a, const int *b, int n) { long s = 0; for (int i = 0; i < n; i++) s += labs((long)a[i] - (long)b[i]); return s; }
int grow_and_sum(int n) { n &= 63; int *p = malloc(4); if (!p) return -1; int cap = 1; for (int i = 0; i < n; i++) { if (i == cap) { cap *= 2; int *q = realloc(p, (size_t)cap * sizeof(int)); if (!q) { free(p); return -1; } p = q; } p[i] = i; } int s = 0; for (int i = 0; i < n; i++) s += p[i]; free(p); return s; }
int has_char(const char *s, int c) { return strchr(s, c & 0x7f) != 0; }
void move_left(int *a, int n) { if (n > 1) memmove(a, a + 1, (size_t)(n - 1) * sizeof(int)); }
int copy_and_cmp(char *dst, const char *src) { strcpy(dst, src); return memcmp(dst, src, strlen(src)); }
