#include "app/cli.hpp"

int main(int argc, char** argv) {
  return gatehouse::cli::main(argc, argv);
}
