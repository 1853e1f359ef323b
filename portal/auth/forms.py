from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

CODE_LABEL = _l("Code from your authenticator app, or a recovery code")


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in"))


class CodeForm(FlaskForm):
    """The second step of signing in, confirming enrolment, or turning two-factor off."""

    code = StringField(
        CODE_LABEL,
        validators=[DataRequired(_l("Enter the code.")), Length(max=20, message=_l("That is too long for a code."))],
    )  # fmt: skip


class DisableTwoFactorForm(CodeForm):
    password = PasswordField(
        _l("Your password"), validators=[DataRequired(_l("Enter your password.")), Length(max=200)]
    )


class ForgotForm(FlaskForm):
    email = EmailField(
        _l("Email"), validators=[DataRequired(_l("Enter your email address.")), Length(max=254)]
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password (at least 10 characters)"),
        validators=[DataRequired(_l("Enter a new password.")), Length(max=200)],
    )
    confirm = PasswordField(
        _l("The new password again"),
        validators=[DataRequired(_l("Enter it again.")), Length(max=200)],
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), Length(max=200)],
    )


class LanguageForm(FlaskForm):
    lang = SelectField(
        _l("Language"), choices=[SelectChoice("en", "English"), SelectChoice("de", "Deutsch")]
    )
