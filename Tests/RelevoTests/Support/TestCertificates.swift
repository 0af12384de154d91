/// A certificate authority made for the tests (openssl, EC P-256, valid until 2125) and a server
/// certificate it signed for `localhost` and 127.0.0.1. Test material only: nothing trusts it but
/// the tests that pass it as a trust root.
enum TestCertificates {
    static let authority = """
        -----BEGIN CERTIFICATE-----
        MIIBmjCCAT+gAwIBAgIUJe5ogZHjPzUhDKJgBD1E+ztOacUwCgYIKoZIzj0EAwIw
        GTEXMBUGA1UEAwwOUmVsZXZvIFRlc3QgQ0EwIBcNMjYxMTI2MDE0NzI2WhgPMjEy
        NjExMDIwMTQ3MjZaMBkxFzAVBgNVBAMMDlJlbGV2byBUZXN0IENBMFkwEwYHKoZI
        zj0CAQYIKoZIzj0DAQcDQgAEjh4QhQ5LZ87CGePtcJsvesnwC5bqD4M6C93SIJjl
        UYBe/+D9vebmVLEGfZBGmJTEdFEwpusz+ATd77yOccWaN6NjMGEwHQYDVR0OBBYE
        FOqmkCq9L66l5gxMMPhb/SU28i4VMB8GA1UdIwQYMBaAFOqmkCq9L66l5gxMMPhb
        /SU28i4VMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgIEMAoGCCqGSM49
        BAMCA0kAMEYCIQDbWeCN3jM5eyl7HMwtK20C9cZHY0Y44p6HBeWgrJIvSAIhAN8B
        DXaXuPsfquTzbt1bF3bPZ4+Em4CsScOj7VXZa/Tg
        -----END CERTIFICATE-----
        """

    static let server = """
        -----BEGIN CERTIFICATE-----
        MIIBrzCCAVWgAwIBAgIUcPhzve6TTF73Jx0VMeVFJoAwPFIwCgYIKoZIzj0EAwIw
        GTEXMBUGA1UEAwwOUmVsZXZvIFRlc3QgQ0EwIBcNMjYxMTI2MDE0NzI2WhgPMjEy
        NjExMDIwMTQ3MjZaMBQxEjAQBgNVBAMMCWxvY2FsaG9zdDBZMBMGByqGSM49AgEG
        CCqGSM49AwEHA0IABMV3iBhk44B5ylSg4gRT8r9peOCIwMBeToz1moC6FsLuUdiQ
        AYYse+zQcYDMeUjiQUenGLS+gdIrbMFTs5avtEOjfjB8MBoGA1UdEQQTMBGCCWxv
        Y2FsaG9zdIcEfwAAATAJBgNVHRMEAjAAMBMGA1UdJQQMMAoGCCsGAQUFBwMBMB0G
        A1UdDgQWBBSIlcEEbz9F8Q0VBNnGf0U9L85mjjAfBgNVHSMEGDAWgBTqppAqvS+u
        peYMTDD4W/0lNvIuFTAKBggqhkjOPQQDAgNIADBFAiBK1LiFoplNTsnt6LU6Wrdm
        3AFxOWWqaUVKQkulToqCpgIhALqakOSmohy190hFTUuwPGManWQF/Aj/vrlrluZx
        Nwss
        -----END CERTIFICATE-----
        """

    static let serverKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQglZlL+eK4+CGMYcVC
        Rtjtswufjhq+INTYN8LaKRWt3tChRANCAATFd4gYZOOAecpUoOIEU/K/aXjgiMDA
        Xk6M9ZqAuhbC7lHYkAGGLHvs0HGAzHlI4kFHpxi0voHSK2zBU7OWr7RD
        -----END PRIVATE KEY-----
        """
}
