/* A small library for the whole-program test: translated to the target, linked with driver.c
   compiled for the target, run under qemu-user, compared with the x86-64 build. */
#include <stdlib.h>
#include <string.h>

int table[8] = {3, 1, 4, 1, 5, 9, 2, 6};
static const char *names[] = {"zero", "one", "two", "three"};

long dot(const int *a, const int *b, int n)
{
    long s = 0;
    for (int i = 0; i < n; i++)
        s += (long)a[i] * b[i];
    return s;
}

#ifndef SKIP_SCALE
void scale(int *a, int n, int k)
{
    for (int i = 0; i < n; i++)
        a[i] = a[i] * k + table[i & 7];
}
#endif

const char *name_of(unsigned i)
{
    switch (i) {
    case 0: return names[0];
    case 1: return names[1];
    case 2: return names[2];
    case 3: return names[3];
    case 4: return "four";
    case 5: return "five";
    default: return "many";
    }
}

char *joined(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *out = malloc(la + lb + 2);
    memcpy(out, a, la);
    out[la] = '-';
    memcpy(out + la + 1, b, lb + 1);
    return out;
}

double mean(const double *v, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += v[i];
    return n ? s / n : 0.0;
}

int clamp_div(int a, int b)
{
    if (b == 0)
        return 0;
    int q = a / b;
    return q < -100 ? -100 : q > 100 ? 100 : q;
}
