#pragma once
namespace gatehouse::cli {
// The `gatehouse` command line. Exit codes: 0 ok, 1 request/auth/store failure, 2 usage or
// configuration error.
int main(int argc, char** argv);
}  // namespace gatehouse::cli
