	.arch armv8-a
	.file	"clamp_sum.c"
	.text
	.align	2
	.p2align 4,,11
	.global	clamp_sum
	.type	clamp_sum, %function
clamp_sum:
.LFB0:
	.cfi_startproc
	cmp	w1, 0
	ble	.L5
	mov	x4, x0
	mov	x0, 0
	add	x6, x4, w1, sxtw 2
	.p2align 3,,7
.L4:
	ldr	w1, [x4]
	mov	w5, w2
	add	x4, x4, 4
	cmp	w2, w1
	bgt	.L3
	cmp	w3, w1
	csel	w5, w3, w1, le
.L3:
	add	x0, x0, w5, sxtw
	cmp	x6, x4
	bne	.L4
	ret
	.p2align 2,,3
.L5:
	mov	x0, 0
	ret
	.cfi_endproc
.LFE0:
	.size	clamp_sum, .-clamp_sum
	.ident	"GCC: (Debian 12.2.0-14) 12.2.0"
	.section	.note.GNU-stack,"",@progbits
