/* The bundled example: a sum of clamped elements, compiled for x86-64 and for AArch64. */
long clamp_sum(const int *a, int n, int lo, int hi)
{
    long total = 0;
    for (int i = 0; i < n; i++) {
        int v = a[i];
        if (v < lo)
            v = lo;
        else if (v > hi)
            v = hi;
        total += v;
    }
    return total;
}
