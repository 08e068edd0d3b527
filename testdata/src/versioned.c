/* versioned.c - versioned.exe (x64): a program that carries resources (versioned.rc): version information, a
 * manifest, a string table and a user-defined resource with names for its type and its name. It imports
 * nothing and returns 0. */
int pe_start(void)
{
    return 0;
}
