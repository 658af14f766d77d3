	.file	"clamp_sum.c"
	.option pic
	.attribute arch, "rv64i2p1_m2p0_a2p1_f2p2_d2p2_c2p0_zicsr2p0_zifencei2p0"
	.attribute unaligned_access, 0
	.attribute stack_align, 16
	.text
	.align	1
	.globl	clamp_sum
	.type	clamp_sum, @function
clamp_sum:
	ble	a1,zero,.L6
	slli	a1,a1,2
	mv	a5,a0
	add	a6,a0,a1
	mv	a7,a3
	li	a0,0
.L5:
	lw	a1,0(a5)
	mv	a4,a2
	addi	a5,a5,4
	bgt	a2,a1,.L3
	sext.w	a4,a7
	ble	a3,a1,.L3
	sext.w	a4,a1
.L3:
	add	a0,a0,a4
	bne	a6,a5,.L5
	ret
.L6:
	li	a0,0
	ret
	.size	clamp_sum, .-clamp_sum
	.ident	"GCC: (Debian 12.2.0-13) 12.2.0"
	.section	.note.GNU-stack,"",@progbits
