int classify(int x) { switch (x) { case 0: return 10; case 1: return 21; case 2: return 32; case 3: return 43; case 4: return 54; case 5: return 65; case 6: return 76; case 7: return 87; default: return -1; } }
int op_apply(int op, int a, int b) { unsigned ua = (unsigned)a, ub = (unsigned)b; switch (op) { case 0: return (int)(ua + ub); case 1: return (int)(ua - ub); case 2: return (int)(ua * ub); case 3: return a & b; case 4: return a | b; case 5: return a ^ b; case 6: return (int)(ua << (ub & 31)); case 7: return (int)(ua >> (ub & 31)); default: return 0; } }
const char *day_name(int d) { switch (d) { case 1: return "mon"; case 2: return "tue"; case 3: return "wed"; case 4: return "thu"; case 5: return "fri"; case 6: return "sat"; case 7: return "sun"; } return "?"; }
int sparse_switch(long x) { switch (x) { case -100: return 1; case 7: return 2; case 1000: return 3; case 65536: return 4; case 123456789: return 5; } return 0; }
unsigned collatz_steps(unsigned n) { unsigned s = 0; if (n == 0) return 0; n &= 0xfffff; if (n == 0) n = 1; while (n != 1 && s < 1000) { n = (n & 1) ? 3 * n + 1 : n / 2; s++; } return s; }
int nested_loops(int n) { int c = 0; n &= 31; for (int i = 0; i < n; i++) for (int j = i; j < n; j++) c += (i ^ j) & 1; return c; }
int early_exit(const int *a, int n, int limit) { long s = 0; for (int i = 0; i < n; i++) { s += a[i]; if (s > limit) return i; } return -1; }
int ternary_chain(int x) { return x < -10 ? 0 : x < 0 ? 1 : x == 0 ? 2 : x < 10 ? 3 : x < 100 ? 4 : 5; }
