#include <stddef.h>
size_t my_strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
int my_strcmp(const char *a, const char *b) { while (*a && *a == *b) { a++; b++; } return (unsigned char)*a - (unsigned char)*b; }
int count_char(const char *s, char c) { int n = 0; for (; *s; s++) n += *s == c; return n; }
int parse_int(const char *s) { int sign = 1; unsigned v = 0; while (*s == ' ') s++; if (*s == '-') { sign = -1; s++; } else if (*s == '+') s++; while (*s >= '0' && *s <= '9') { v = v * 10u + (unsigned)(*s - '0'); s++; } return (int)(v * (unsigned)sign); }
void upcase(char *s) { for (; *s; s++) if (*s >= 'a' && *s <= 'z') *s = (char)(*s - 32); }
int is_palindrome(const char *s) { size_t n = 0; while (s[n]) n++; for (size_t i = 0; i < n / 2; i++) if (s[i] != s[n - 1 - i]) return 0; return 1; }
unsigned djb2(const char *s) { unsigned h = 5381; while (*s) h = h * 33u + (unsigned char)*s++; return h; }
int word_count(const char *s) { int n = 0, in = 0; for (; *s; s++) { int sp = *s == ' ' || *s == '\t' || *s == '\n'; if (!sp && !in) n++; in = !sp; } return n; }
const char *find_char(const char *s, int c) { for (; *s; s++) if (*s == (char)c) return s; return 0; }
int digit_sum(const char *s) { int t = 0; for (; *s; s++) if (*s >= '0' && *s <= '9') t += *s - '0'; return t; }
