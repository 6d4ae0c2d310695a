/* cli.c - command table and dispatch (filled in by the CLI work). */
#include <stdio.h>

#include "cli/cli.h"

int cq_cli_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("clariq: under construction\n", stderr);
    return CQ_EXIT_USAGE;
}
