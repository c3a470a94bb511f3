; tcpcraft's Windows installer (NSIS 3, built on Linux with Debian's makensis by scripts/windows-check.sh, which
; also installs it silently under Wine and runs the installed app).
;
;   makensis -DBINDIR=DIR -DVERSION=X.Y.Z -DOUTFILE=PATH -DICON=tcpcraft.ico packaging/windows/tcpcraft.nsi
;
; BINDIR holds tcpcraft.exe and tcpcraft-link.exe. Only those two files are installed: presets, labs, fonts and
; translations are built into tcpcraft.exe. Nothing test-only (such as the Wine shim bcryptprimitives.dll of
; tests/wine/) is ever packed.
;
; Per user, no elevation: the installer asks for no admin rights and installs into
; %LOCALAPPDATA%\Programs\tcpcraft. Npcap is not bundled (its licence forbids redistribution without an OEM
; licence); when it is missing the installer says where to get it and goes on.

Unicode true
Target amd64-unicode
ManifestDPIAware true
RequestExecutionLevel user
SetCompressor /SOLID lzma

!ifndef BINDIR
  !error "pass -DBINDIR=folder holding tcpcraft.exe and tcpcraft-link.exe"
!endif
!ifndef VERSION
  !error "pass -DVERSION=the Cargo.toml version"
!endif
!ifndef OUTFILE
  !define OUTFILE "tcpcraft-${VERSION}-x64-setup.exe"
!endif

!define APP "tcpcraft"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP}"

Name "${APP}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${APP}"
InstallDirRegKey HKCU "Software\${APP}" "InstallDir"
VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=0 "ProductName" "${APP}"
VIAddVersionKey /LANG=0 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "FileDescription" "${APP} installer"
VIAddVersionKey /LANG=0 "LegalCopyright" "tcpcraft contributors, MIT OR Apache-2.0"

!include "MUI2.nsh"
!include "LogicLib.nsh"

!ifdef ICON
  !define MUI_ICON "${ICON}"
  !define MUI_UNICON "${ICON}"
!endif
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\tcpcraft.exe"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

; The installer speaks the user's Windows language when it is one of these (the app's own two).
!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_LANGUAGE "Korean"

LangString NpcapMissing ${LANG_ENGLISH} "tcpcraft sends and captures real packets through Npcap, which is not installed. Get it from https://npcap.com (tick $\"WinPcap API-compatible mode$\"). Until then tcpcraft runs every exercise against its simulated lab host."
LangString NpcapMissing ${LANG_KOREAN} "tcpcraft는 Npcap으로 실제 패킷을 보내고 캡처하는데, Npcap이 설치되어 있지 않습니다. https://npcap.com 에서 내려받아 설치하세요 ($\"WinPcap API-compatible mode$\"를 선택). 그때까지는 모든 실습이 시뮬레이션 실습 호스트를 상대로 동작합니다."

Section "tcpcraft" SecApp
  SectionIn RO
  SetOutPath "$INSTDIR"
  File "${BINDIR}\tcpcraft.exe"
  ; The helper that sends and captures through Npcap; the app looks for it next to its own executable first.
  File "${BINDIR}\tcpcraft-link.exe"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; Per-user Start menu (SetShellVarContext current is the default for a user-level installer).
  CreateShortCut "$SMPROGRAMS\${APP}.lnk" "$INSTDIR\tcpcraft.exe" "" "$INSTDIR\tcpcraft.exe" 0

  WriteRegStr HKCU "Software\${APP}" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${APP}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "tcpcraft contributors"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\tcpcraft.exe"
  WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" "$\"$INSTDIR\uninstall.exe$\""
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" "$\"$INSTDIR\uninstall.exe$\" /S"
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
SectionEnd

; Npcap is what raw mode needs. A 64-bit installer sees the real System32 as $SYSDIR, where Npcap puts its
; wpcap.dll. Silent installs (/S) take the default answer and go on.
Section "-NpcapCheck"
  ${IfNot} ${FileExists} "$SYSDIR\Npcap\wpcap.dll"
    DetailPrint "Npcap not found at $SYSDIR\Npcap\wpcap.dll"
    MessageBox MB_OK|MB_ICONINFORMATION "$(NpcapMissing)" /SD IDOK
  ${EndIf}
SectionEnd

Section "Uninstall"
  Delete "$INSTDIR\tcpcraft.exe"
  Delete "$INSTDIR\tcpcraft-link.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\${APP}.lnk"
  DeleteRegKey HKCU "${UNINST_KEY}"
  DeleteRegKey HKCU "Software\${APP}"
  ; The app's saved settings (%APPDATA%\tcpcraft) are the user's and stay.
SectionEnd
