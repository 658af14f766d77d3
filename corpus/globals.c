static int counter;
int table[8] = {3, 1, 4, 1, 5, 9, 2, 6};
long history[4];
static const unsigned char crc_table[16] = {0, 7, 14, 9, 28, 27, 18, 21, 56, 63, 54, 49, 36, 35, 42, 45};
int next_id(void) { return ++counter; }
int table_lookup(unsigned i) { return table[i & 7]; }
void table_bump(unsigned i, int v) { table[i & 7] += v & 0xff; }
void record(long v) { for (int i = 3; i > 0; i--) history[i] = history[i - 1]; history[0] = v; }
unsigned crc4(const unsigned char *p, int n) { unsigned c = 0; for (int i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 15] ^ (c >> 4); return c; }
int accumulate(int v) { static int total; total += v & 0xffff; return total; }
