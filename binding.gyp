{
  "variables": {
    # 1 builds the POSIX code without the Linux extras (O_TMPFILE, getrandom):
    # the path macOS and the BSDs take, exercised on Linux.
    "st_posix_portable%": 0
  },
  "targets": [
    {
      "target_name": "securetemp",
      "sources": ["native/binding.cc", "native/retry.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "conditions": [
        ["OS=='win'", {
          "sources": ["native/win32.cc"],
          "defines": ["UNICODE", "_UNICODE", "WIN32_LEAN_AND_MEAN", "NOMINMAX"],
          "libraries": ["-ladvapi32", "-lbcrypt"],
          "msvs_settings": {
            "VCCLCompilerTool": {
              "AdditionalOptions": ["/guard:cf", "/sdl", "/std:c++17", "/Qspectre"],
              "ExceptionHandling": 1
            },
            "VCLinkerTool": {
              "AdditionalOptions": ["/guard:cf", "/DYNAMICBASE", "/NXCOMPAT"]
            }
          }
        }, {
          "sources": ["native/posix.cc"],
          "cflags_cc": [
            "-std=c++17", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2",
            "-Wall", "-Wextra", "-Wformat", "-Wformat-security", "-fPIC"
          ],
          "cflags_cc!": ["-fno-exceptions"],
          "ldflags": ["-Wl,-z,relro", "-Wl,-z,now", "-Wl,-z,noexecstack"],
          "xcode_settings": {
            "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2"],
            "MACOSX_DEPLOYMENT_TARGET": "10.15"
          }
        }],
        ["st_posix_portable==1", {
          "defines": ["ST_POSIX_PORTABLE"]
        }]
      ]
    }
  ]
}
