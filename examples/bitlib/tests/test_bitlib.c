/* bitlib's own tests: exit status 0 when every check passes. */
#include <stdio.h>
#include "bitlib.h"

static int failures;

static void check(const char *what, long got, long want) {
    if (got != want) {
        printf("FAIL %s: got %ld, want %ld\n", what, got, want);
        failures++;
    }
}

int main(void) {
    int numbers[] = {1, -2, 3, 2147483647, -2147483647 - 1};
    unsigned char bytes[] = {0x01, 0x80, 0xff, 0x10};
    check("popcount64(0)", popcount64(0), 0);
    check("popcount64(~0)", popcount64(~0UL), 64);
    check("popcount64(0x8001)", popcount64(0x8001), 2);
    check("sum_i32", sum_i32(numbers, 5), 1 - 2 + 3 + 2147483647L - 2147483648L);
    check("sum_i32 empty", sum_i32(numbers, 0), 0);
    check("clamp_i32 low", clamp_i32(-5, 0, 10), 0);
    check("clamp_i32 high", clamp_i32(50, 0, 10), 10);
    check("clamp_i32 inside", clamp_i32(7, 0, 10), 7);
    check("clamp_i32 lo > hi", clamp_i32(5, 9, 1), 9);
    check("checksum8", checksum8(bytes, 4), 0xe5);
    printf("%s: %d failure(s)\n", failures ? "FAILED" : "ok", failures);
    return failures != 0;
}
