DROP TABLE signin_failures;
