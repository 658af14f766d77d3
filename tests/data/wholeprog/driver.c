/* Calls every function of lib.c and prints what they return. */
#include <stdio.h>
#include <stdlib.h>

long dot(const int *a, const int *b, int n);
void scale(int *a, int n, int k);
const char *name_of(unsigned i);
char *joined(const char *a, const char *b);
double mean(const double *v, int n);
int clamp_div(int a, int b);
extern int table[8];

int main(void)
{
    int a[10] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10};
    int b[10] = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    printf("dot %ld\n", dot(a, b, 10));
    scale(a, 10, -3);
    for (int i = 0; i < 10; i++)
        printf("%d ", a[i]);
    printf("\n");
    for (unsigned i = 0; i < 8; i++)
        printf("%s ", name_of(i));
    printf("\n");
    char *j = joined("left", "right");
    printf("%s\n", j);
    free(j);
    double v[5] = {1.5, 2.25, -3.0, 8.0, 0.125};
    printf("mean %.6f %.6f\n", mean(v, 5), mean(v, 0));
    printf("div %d %d %d %d\n", clamp_div(1000, 3), clamp_div(-7, 2), clamp_div(5, 0),
           clamp_div(-100000, 7));
    table[0] = 42;
    scale(b, 2, 1);
    printf("after %d %d\n", b[0], b[1]);
    return 0;
}
