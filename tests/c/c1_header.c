/* C1: the header alone, compiled by the ctest C2_TestsInC.C1_HeaderCompilesAsStrictC11
 * with -std=c11 -pedantic -Wall -Wextra -Werror and nothing else. */
#include <wrt/platform.h>

int main(void) { return wrt_error_message(WRT_OK)[0] == 'O' ? 0 : 1; }
