	.text
	.globl	sum4
	.type	sum4, @function
sum4:
	movdqu	(%rdi), %xmm0
	pshufd	$78, %xmm0, %xmm1
	paddd	%xmm1, %xmm0
	pshufd	$177, %xmm0, %xmm1
	paddd	%xmm1, %xmm0
	movd	%xmm0, %eax
	ret
	.size	sum4, .-sum4
	.section	.note.GNU-stack,"",@progbits
