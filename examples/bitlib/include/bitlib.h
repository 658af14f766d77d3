/* bitlib: small bit and buffer routines, hand-written in x86-64 assembly (src/bitlib.s). */
#ifndef BITLIB_H
#define BITLIB_H

unsigned popcount64(unsigned long x);
long sum_i32(const int *a, long n);
int clamp_i32(int x, int lo, int hi);
unsigned char checksum8(const unsigned char *p, long n);

#endif
