// Reports the working directory as a wasi-libc program sees it: getcwd() and the file
// `here.txt` opened by a relative path; then, for each argument, chdir() to it and the same
// again. One line each: `cwd=<dir> here.txt=<first line or error>`, as guests/test-guests'
// `cwd` prints. Built at test time with clang --target=wasm32-wasi (porthole_guests::c_guest).
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void report(void) {
  char cwd[4096];
  char line[256] = "";
  if (!getcwd(cwd, sizeof cwd))
    snprintf(cwd, sizeof cwd, "error: %s", strerror(errno));
  FILE *f = fopen("here.txt", "r");
  if (f) {
    if (fgets(line, sizeof line, f))
      line[strcspn(line, "\n")] = 0;
    fclose(f);
  } else {
    snprintf(line, sizeof line, "error: %s", strerror(errno));
  }
  printf("cwd=%s here.txt=%s\n", cwd, line);
}

int main(int argc, char **argv) {
  report();
  for (int i = 1; i < argc; i++) {
    if (chdir(argv[i]) != 0) {
      printf("cd %s: %s\n", argv[i], strerror(errno));
      continue;
    }
    report();
  }
  return 0;
}
