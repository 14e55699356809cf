// Keeps rms_test_support non-empty while its helpers are written.
