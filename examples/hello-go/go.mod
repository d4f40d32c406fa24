module example.com/hello-go

// Debian bookworm's toolchain (golang-1.19-go): the build environment is made from Debian packages only.
go 1.19
