	.file	"clamp_sum.c"
	.text
	.p2align 4
	.globl	clamp_sum
	.type	clamp_sum, @function
clamp_sum:
	testl	%esi, %esi
	jle	.L5
	movslq	%esi, %rsi
	xorl	%r8d, %r8d
	leaq	(%rdi,%rsi,4), %r9
	.p2align 4,,10
	.p2align 3
.L4:
	movl	(%rdi), %esi
	cmpl	%esi, %ecx
	movl	%esi, %eax
	cmovle	%ecx, %eax
	cmpl	%esi, %edx
	cmovg	%edx, %eax
	addq	$4, %rdi
	cltq
	addq	%rax, %r8
	cmpq	%rdi, %r9
	jne	.L4
	movq	%r8, %rax
	ret
	.p2align 4,,10
	.p2align 3
.L5:
	xorl	%r8d, %r8d
	movq	%r8, %rax
	ret
	.size	clamp_sum, .-clamp_sum
	.ident	"GCC: (Debian 12.2.0-14+deb12u1) 12.2.0"
	.section	.note.GNU-stack,"",@progbits
