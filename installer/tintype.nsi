; Tintype's Windows installer (NSIS 3, built-in plugins only, so makensis builds it on Windows
; and on Linux alike). Per-user: no administrator rights, installed to
; %LOCALAPPDATA%\Programs\Tintype with the built-in model beside the program (where
; tintype::store::builtin_compact() looks), a Start menu entry, an "Open with" entry for photos,
; and an entry in Settings → Apps that uninstalls it. The uninstaller removes what was installed
; and leaves the user's settings and downloaded models (%APPDATA%\Tintype,
; %LOCALAPPDATA%\Tintype) alone.
; Built by installer/build-nsis.sh; checked under Wine by installer/check-windows.sh.
; makensis -DVERSION=0.1.0 -DEXE=path\to\tintype.exe -DROOT=checkout -DOUT=setup.exe tintype.nsi

; A 64-bit installer for a 64-bit program (and the registry's 64-bit view).
Target amd64-unicode
!include "MUI2.nsh"
!include "FileFunc.nsh"

!ifndef VERSION
  !error "define VERSION, EXE, ROOT and OUT (installer/build-nsis.sh does)"
!endif

!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Tintype"
!define PROGID "Tintype.Photo"

Name "Tintype"
OutFile "${OUT}"
InstallDir "$LOCALAPPDATA\Programs\Tintype"
InstallDirRegKey HKCU "${UNINSTALL_KEY}" "InstallLocation"
RequestExecutionLevel user
SetCompressor /SOLID lzma
BrandingText "Tintype ${VERSION}"

VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "Tintype"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "Tintype ${VERSION} setup"
VIAddVersionKey "CompanyName" "The Tintype developers"
VIAddVersionKey "LegalCopyright" "2026, The Tintype developers"

!define MUI_ICON "${ROOT}/assets/icon/tintype.ico"
!define MUI_UNICON "${ROOT}/assets/icon/tintype.ico"
!define MUI_WELCOMEFINISHPAGE_BITMAP "${ROOT}/assets/icon/installer-sidebar.bmp"
!define MUI_ABORTWARNING
!define MUI_WELCOMEPAGE_TEXT "Tintype brings old black-and-white photos back to colour, offline, on this computer.$\r$\n$\r$\nIt installs for you alone and needs no administrator rights. Your photos are never changed: colorized copies go to an export folder."
!define MUI_FINISHPAGE_RUN "$INSTDIR\tintype.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Start Tintype"
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_LICENSE "${ROOT}/LICENSE"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

; The photo types Tintype reads, offered in Explorer's "Open with" (never made the default).
!macro ForEachPhotoType MACRO
  !insertmacro ${MACRO} ".jpg"
  !insertmacro ${MACRO} ".jpeg"
  !insertmacro ${MACRO} ".png"
  !insertmacro ${MACRO} ".tif"
  !insertmacro ${MACRO} ".tiff"
  !insertmacro ${MACRO} ".webp"
  !insertmacro ${MACRO} ".bmp"
  !insertmacro ${MACRO} ".gif"
!macroend
!macro OfferOpenWith EXT
  WriteRegStr HKCU "Software\Classes\${EXT}\OpenWithProgids" "${PROGID}" ""
!macroend
!macro WithdrawOpenWith EXT
  DeleteRegValue HKCU "Software\Classes\${EXT}\OpenWithProgids" "${PROGID}"
  DeleteRegKey /ifempty HKCU "Software\Classes\${EXT}\OpenWithProgids"
  DeleteRegKey /ifempty HKCU "Software\Classes\${EXT}"
!macroend

Section "Tintype"
  SetOutPath "$INSTDIR"
  File "/oname=tintype.exe" "${EXE}"
  File "/oname=tintype.ico" "${ROOT}/assets/icon/tintype.ico"
  File "${ROOT}/LICENSE"
  SetOutPath "$INSTDIR\models"
  File "${ROOT}/models/compact.safetensors"
  File "${ROOT}/models/compact.md"
  SetOutPath "$INSTDIR\samples"
  File "${ROOT}/assets/samples/migrant-mother.jpg"
  File "${ROOT}/assets/samples/walt-whitman.jpg"
  File "${ROOT}/assets/samples/SOURCES.md"
  SetOutPath "$INSTDIR"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateShortcut "$SMPROGRAMS\Tintype.lnk" "$INSTDIR\tintype.exe" "" "$INSTDIR\tintype.ico"

  WriteRegStr HKCU "Software\Classes\${PROGID}" "" "Old photo"
  WriteRegStr HKCU "Software\Classes\${PROGID}\DefaultIcon" "" "$INSTDIR\tintype.ico"
  WriteRegStr HKCU "Software\Classes\${PROGID}\shell\open" "FriendlyAppName" "Tintype"
  WriteRegStr HKCU "Software\Classes\${PROGID}\shell\open\command" "" '"$INSTDIR\tintype.exe" "%1"'
  !insertmacro ForEachPhotoType OfferOpenWith
  ; SHCNE_ASSOCCHANGED: Explorer rereads the associations.
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'

  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "Tintype"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "The Tintype developers"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\tintype.ico"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "EstimatedSize" $0
SectionEnd

; What the installer wrote, file by file: a folder the user chose is never removed wholesale.
Section "Uninstall"
  Delete "$INSTDIR\tintype.exe"
  Delete "$INSTDIR\tintype.ico"
  Delete "$INSTDIR\LICENSE"
  Delete "$INSTDIR\models\compact.safetensors"
  Delete "$INSTDIR\models\compact.md"
  RMDir "$INSTDIR\models"
  Delete "$INSTDIR\samples\migrant-mother.jpg"
  Delete "$INSTDIR\samples\walt-whitman.jpg"
  Delete "$INSTDIR\samples\SOURCES.md"
  RMDir "$INSTDIR\samples"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"

  Delete "$SMPROGRAMS\Tintype.lnk"
  !insertmacro ForEachPhotoType WithdrawOpenWith
  DeleteRegKey HKCU "Software\Classes\${PROGID}"
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
SectionEnd
