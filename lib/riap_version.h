/* riap_version.h: the one version of every program of riap-simple (-V) */
#ifndef RIAP_VERSION_H
#define RIAP_VERSION_H
#define RIAP_VERSION "0.1.0"
#endif
