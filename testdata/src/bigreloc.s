# bigreloc.s - bigreloc.dll (x64 only): 300,000 absolute 64-bit pointers in
# .data, i.e. 300,000 IMAGE_REL_BASED_DIR64 base relocations (~586 blocks).
# Assembled with x86_64-w64-mingw32-as, linked by x86_64-w64-mingw32-gcc.
# big_count() walks the table and returns how many entries point at
# big_target (300000 when every fixup was applied).

        .equ    NPTRS, 300000

        .text
        .globl  big_target
big_target:
        movl    $42, %eax
        ret

        .globl  big_count
big_count:
        movabsq $big_table, %rcx            # one more DIR64, in .text
        movabsq $big_target, %rdx           # and another
        xorl    %eax, %eax
        movl    $NPTRS, %r8d
1:      cmpq    %rdx, (%rcx)
        jne     2f
        incl    %eax
2:      addq    $8, %rcx
        decl    %r8d
        jnz     1b
        ret

        .globl  DllEntry
DllEntry:
        movl    $1, %eax
        ret

        .data
        .globl  big_table
        .p2align 3
big_table:
        .rept   NPTRS
        .quad   big_target
        .endr
