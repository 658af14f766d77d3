# bitlib routines, System V AMD64 ABI, AT&T syntax.
	.text

# unsigned popcount64(unsigned long x): clear the lowest set bit until none is left.
	.globl	popcount64
	.type	popcount64, @function
popcount64:
	xorl	%eax, %eax
	testq	%rdi, %rdi
	je	2f
1:	leaq	-1(%rdi), %rdx
	addl	$1, %eax
	andq	%rdx, %rdi
	jne	1b
2:	ret
	.size	popcount64, .-popcount64

# long sum_i32(const int *a, long n)
	.globl	sum_i32
	.type	sum_i32, @function
sum_i32:
	xorl	%eax, %eax
	testq	%rsi, %rsi
	jle	2f
	xorl	%ecx, %ecx
1:	movslq	(%rdi,%rcx,4), %rdx
	addq	%rdx, %rax
	addq	$1, %rcx
	cmpq	%rsi, %rcx
	jne	1b
2:	ret
	.size	sum_i32, .-sum_i32

# int clamp_i32(int x, int lo, int hi): x limited to [lo, hi] (lo first when lo > hi).
	.globl	clamp_i32
	.type	clamp_i32, @function
clamp_i32:
	movl	%edi, %eax
	cmpl	%edx, %eax
	cmovg	%edx, %eax
	cmpl	%esi, %eax
	cmovl	%esi, %eax
	ret
	.size	clamp_i32, .-clamp_i32

# unsigned char checksum8(const unsigned char *p, long n): rotate left, then xor each byte.
	.globl	checksum8
	.type	checksum8, @function
checksum8:
	xorl	%eax, %eax
	testq	%rsi, %rsi
	jle	2f
	xorl	%ecx, %ecx
1:	rolb	$1, %al
	xorb	(%rdi,%rcx), %al
	addq	$1, %rcx
	cmpq	%rsi, %rcx
	jne	1b
2:	ret
	.size	checksum8, .-checksum8

	.section	.note.GNU-stack,"",@progbits
